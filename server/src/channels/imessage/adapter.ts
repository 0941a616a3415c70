/**
 * iMessage through the BlueBubbles server on the user's Mac: its REST API
 * (`?password=` on every call) for sends, attachments and catch-up, and its
 * webhooks for new messages — registered by the adapter at
 * `<imessage.webhookUrl>/channels/imessage/webhook?token=…` (a secret kept
 * encrypted in the store) when that base URL is set; without it the adapter
 * polls the message query. Each tick pings the server (liveness) and asks
 * for what arrived since the last stored message, so a webhook missed while
 * the gateway was away or cut off is fetched (the dedupe makes replays
 * harmless). Groups: a message is addressed when it names
 * `imessage.mentionName`.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AppError } from '@autoclaw/shared';
import { jsonBody, refused, sameSecret, sleep, webhookSecret } from '../endpoint-kit';
import { createHttpClient } from '../http-client';
import { multipartBody } from '../multipart-body';
import { platformError } from '../platform-error';
import type { ChannelAdapter, ChannelContext, ConversationRef } from '../types';

const LABEL = 'iMessage (BlueBubbles)';
const WEBHOOK_PATH = '/channels/imessage/webhook';
/** A group chat's style in the Messages database (45 is a one-to-one chat). */
const GROUP_STYLE = 43;

interface BbMessage {
  guid: string;
  text: string | null;
  isFromMe: boolean;
  dateCreated: number;
  handle?: { address: string } | null;
  chats?: Array<{ guid: string; displayName?: string; style?: number }>;
  attachments?: Array<{ guid: string; transferName?: string; mimeType?: string | null; totalBytes?: number }>;
}

interface Envelope<T> {
  status: number;
  message: string;
  data: T;
  error?: { type?: string; message?: string };
}

export function createIMessageAdapter(ctx: ChannelContext): ChannelAdapter {
  const base = (ctx.setting('imessage.url') ?? '').replace(/\/+$/, '');
  const password = ctx.setting('imessage.password') ?? '';
  const webhookBase = ctx.setting('imessage.webhookUrl')?.replace(/\/+$/, '') ?? null;
  const mentionName = ctx.setting('imessage.mentionName')?.trim() || null;
  const livenessMs = ctx.tuning.livenessMs ?? 90_000;
  const pollMs = webhookBase ? Math.max(1_000, Math.floor(livenessMs / 3)) : (ctx.tuning.pollTimeoutSec ?? 5) * 1000;
  const http = createHttpClient();
  const { signal } = ctx;
  /** Messages handled in this run (the catch-up overlaps the webhooks). */
  const seen = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();

  const url = (path: string) => `${base}/api/v1${path}${path.includes('?') ? '&' : '?'}password=${encodeURIComponent(password)}`;

  const api = async <T>(method: string, path: string, body?: unknown, callSignal: AbortSignal = signal): Promise<T> => {
    let res;
    try {
      res = await http.fetch(url(path), { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body), signal: callSignal });
    } catch (err) {
      throw platformError(LABEL, null, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const text = await res.text();
    let parsed: Envelope<T> | null = null;
    try {
      parsed = JSON.parse(text) as Envelope<T>;
    } catch {
      parsed = null;
    }
    if (res.status === 401) throw new AppError('UNAUTHORIZED', 'BlueBubbles refused the password');
    if (!res.ok || !parsed) throw platformError(LABEL, res.status, parsed?.error?.message ?? parsed?.message ?? `HTTP ${res.status}`);
    return parsed.data;
  };

  const conversationOf = (message: BbMessage): { conversation: ConversationRef; title?: string } | null => {
    const chat = message.chats?.[0];
    if (!chat) return null;
    const group = chat.style === GROUP_STYLE || chat.guid.includes(';+;');
    return { conversation: { id: chat.guid, kind: group ? 'group' : 'dm' }, ...(group && chat.displayName ? { title: chat.displayName } : {}) };
  };

  const mentionPattern = mentionName ? new RegExp(`(^|\\s)@?${mentionName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b[,:]?`, 'i') : null;

  const handle = async (message: BbMessage): Promise<void> => {
    if (message.isFromMe || seen.has(message.guid)) return;
    const where = conversationOf(message);
    const sender = message.handle?.address;
    if (!where || !sender) return;
    const text = message.text ?? '';
    const addressed = where.conversation.kind === 'dm' || (mentionPattern?.test(text) ?? false);
    await ctx.receive({
      platformId: message.guid,
      conversation: where.conversation,
      ...(where.title ? { conversationTitle: where.title } : {}),
      sender: { id: sender, name: sender },
      text: mentionPattern && where.conversation.kind === 'group' ? text.replace(mentionPattern, ' ').trim() : text,
      attachments: (message.attachments ?? []).map((a) => ({
        name: a.transferName ?? a.guid,
        ...(a.mimeType ? { mimeType: a.mimeType } : {}),
        ...(a.totalBytes === undefined ? {} : { size: a.totalBytes }),
        async download(downloadSignal: AbortSignal) {
          const res = await http.fetch(url(`/attachment/${encodeURIComponent(a.guid)}/download`), { signal: downloadSignal });
          if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
          return res.bytes();
        },
      })),
      addressed,
    });
  };

  /** Handles a message, then moves the cursor past it: a cut before that fetches it again. */
  const take = async (message: BbMessage): Promise<void> => {
    await handle(message);
    seen.add(message.guid);
    if (seen.size > 5_000) seen.clear();
    if (message.dateCreated > Number(ctx.state.get('after') ?? 0)) ctx.state.set('after', String(message.dateCreated));
  };

  /** One at a time, in order: the webhooks and the catch-up share the cursor. */
  const serial = (work: () => Promise<void>): Promise<void> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const catchUp = () =>
    serial(async () => {
      for (;;) {
        const batch = await api<BbMessage[]>('POST', '/message/query', { after: Number(ctx.state.get('after') ?? 0), sort: 'ASC', limit: 100, with: ['chat', 'handle', 'attachment'] });
        for (const message of batch) await take(message);
        if (batch.length < 100) return;
      }
    });

  /** A hook registered with this gateway's webhook token. */
  const madeWith = (hookUrl: string, token: string | null): boolean =>
    token !== null && hookUrl.includes(WEBHOOK_PATH) && URL.canParse(hookUrl) && new URL(hookUrl).searchParams.get('token') === token;

  /** Polling now: the hook registered before (and its token) go. */
  const unregisterWebhook = async (): Promise<void> => {
    const previous = ctx.state.getSecret('webhookToken');
    if (previous === null) return;
    const hooks = await api<Array<{ id: number; url: string }>>('GET', '/webhook');
    for (const hook of hooks) if (madeWith(hook.url, previous)) await api('DELETE', `/webhook/${hook.id}`);
    ctx.state.setSecret('webhookToken', null);
    ctx.state.set('webhookBase', null);
  };

  const registerWebhook = async (hookBase: string): Promise<void> => {
    // The token was sent to whoever serves the webhook URL: a new URL gets a new token.
    const previous = ctx.state.getSecret('webhookToken');
    if (previous !== null && ctx.state.get('webhookBase') !== hookBase) ctx.state.setSecret('webhookToken', null);
    const expected = webhookSecret(ctx.state, 'webhookToken');
    ctx.state.set('webhookBase', hookBase);
    ctx.route('POST', '/webhook', async (req) => {
      if (!sameSecret(req.query['token'], expected)) return refused('bad webhook token');
      const event = jsonBody<{ type?: string; data?: BbMessage }>(req);
      if (!event || typeof event.type !== 'string') return refused('not a BlueBubbles event', 400);
      if (event.type === 'new-message' && event.data && typeof event.data.guid === 'string') {
        // Answered after the message is stored.
        await serial(() => take(event.data!));
      }
      return { status: 200, body: { ok: true } };
    });
    const target = `${hookBase}${WEBHOOK_PATH}?token=${expected}`;
    const hooks = await api<Array<{ id: number; url: string }>>('GET', '/webhook');
    for (const hook of hooks) {
      // An older registration of this gateway (another token, or the old URL): replaced.
      const ours = hook.url.startsWith(`${hookBase}${WEBHOOK_PATH}`) || madeWith(hook.url, previous);
      if (ours && hook.url !== target) await api('DELETE', `/webhook/${hook.id}`);
    }
    if (!hooks.some((h) => h.url === target)) await api('POST', '/webhook', { url: target, events: ['new-message'] });
  };

  const tick = async () => {
    while (!signal.aborted) {
      await sleep(pollMs, signal);
      if (signal.aborted) return;
      try {
        await api('GET', '/ping', undefined, AbortSignal.any([signal, AbortSignal.timeout(15_000)]));
        ctx.alive(livenessMs);
        await catchUp();
      } catch (err) {
        if (signal.aborted) return;
        // Unreachable or asleep: the watchdog decides; a refused password ends the run.
        if (AppError.is(err) && err.code === 'UNAUTHORIZED') return ctx.fail(err);
        ctx.logger.warn({ channel: 'imessage', err: err instanceof Error ? err.message : String(err) }, 'BlueBubbles ping or catch-up failed');
      }
    }
  };

  return {
    limits: { maxTextChars: 10_000, editIntervalMs: 1_000, typingIntervalMs: 0 },

    async start() {
      await api('GET', '/server/info');
      ctx.alive(livenessMs);
      // The first run starts from now: the Mac's whole history is not replayed.
      if (ctx.state.get('after') === null) ctx.state.set('after', String(Date.now()));
      if (webhookBase) await registerWebhook(webhookBase);
      else await unregisterWebhook();
      await catchUp();
      void tick();
    },

    async stop() {
      http.close();
    },

    async sendText(to, message, sendSignal) {
      const sent = await api<BbMessage>('POST', '/message/text', { chatGuid: to.id, tempGuid: `temp-${randomUUID()}`, message: message.text, method: 'apple-script' }, sendSignal);
      return { id: sent.guid };
    },

    async sendFile(to, file, sendSignal) {
      const data = await readFile(file.path);
      const form = multipartBody([
        { name: 'chatGuid', value: to.id },
        { name: 'tempGuid', value: `temp-${randomUUID()}` },
        { name: 'name', value: file.name },
        { name: 'method', value: 'apple-script' },
        { name: 'attachment', filename: file.name, data, type: file.mimeType },
      ]);
      let res;
      try {
        res = await http.fetch(url('/message/attachment'), { method: 'POST', headers: { 'content-type': form.type }, body: form.body, signal: sendSignal });
      } catch (err) {
        throw platformError(LABEL, null, err instanceof Error ? err.message : String(err), { cause: err });
      }
      const body = (await res.json().catch(() => null)) as Envelope<BbMessage> | null;
      if (!res.ok || !body) throw platformError(LABEL, res.status, body?.error?.message ?? body?.message ?? 'upload failed');
      return { id: body.data.guid };
    },
  };
}
