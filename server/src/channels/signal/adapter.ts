/**
 * Signal through a signal-cli daemon's JSON-RPC interface over HTTP: a
 * remote daemon at `signal.url`, or a local one the gateway supervises
 * (`signal.cliPath`, daemon.ts). The account is `signal.account`, or the one
 * linked here: without one, `startLink` gives the device-link URI that the
 * Channels page shows as a QR code, and `finishLink` waits for the phone to
 * scan it. Messages come as `receive` events on the SSE stream; each is
 * stored before its event id is kept, and a reconnect resumes after that id
 * (`Last-Event-ID`), so a cut loses nothing. Liveness: the stream's events
 * and keep-alives (every 15 s), or, while linking, the daemon's health check.
 */
import { readFile } from 'node:fs/promises';
import { AppError } from '@autoclaw/shared';
import { createHttpClient } from '../http-client';
import { sleep } from '../endpoint-kit';
import type { ChannelAdapter, ChannelContext, ConversationRef, InboundAttachment } from '../types';
import { killStaleDaemon, startSignalDaemon, type SignalDaemon } from './daemon';
import { createRpcClient, openEventStream, type RpcClient, type SseEvent } from './rpc';

interface Envelope {
  source?: string;
  sourceNumber?: string | null;
  sourceUuid?: string;
  sourceName?: string;
  timestamp?: number;
  dataMessage?: {
    timestamp?: number;
    message?: string | null;
    mentions?: Array<{ number?: string | null; uuid?: string }>;
    attachments?: Array<{ contentType?: string; filename?: string | null; id: string; size?: number }>;
    groupInfo?: { groupId: string; groupName?: string };
    quote?: { authorNumber?: string | null; authorUuid?: string };
  };
}

const KEEP_ALIVE_LIMIT_MS = 40_000;
const LINK_DEVICE_NAME = 'AutoClaw';

/** Who a conversation sends to: a group id or a recipient. */
const target = (to: ConversationRef) => (to.kind === 'group' ? { groupId: to.id } : { recipient: [to.id] });

export function createSignalAdapter(ctx: ChannelContext): ChannelAdapter {
  const remote = ctx.setting('signal.url')?.replace(/\/+$/, '') ?? null;
  const cliPath = ctx.setting('signal.cliPath') ?? 'signal-cli';
  const limit = ctx.tuning.livenessMs ?? KEEP_ALIVE_LIMIT_MS;
  const http = createHttpClient();
  const { signal } = ctx;
  let daemon: SignalDaemon | null = null;
  let rpc!: RpcClient;
  let base = '';
  let account = ctx.setting('signal.account') ?? ctx.state.get('account');
  let myUuid = ctx.state.get('uuid');
  let streaming = false;
  let checker: NodeJS.Timeout | null = null;
  /** Events are stored one after another, so the kept event id only moves forward. */
  let chain: Promise<void> = Promise.resolve();

  const params = (extra: Record<string, unknown>) => ({ account, ...extra });

  const toInbound = (env: Envelope) => {
    const data = env.dataMessage;
    if (!data) return null;
    const senderId = env.sourceNumber ?? env.source ?? env.sourceUuid;
    if (!senderId) return null;
    const group = data.groupInfo;
    const conversation: ConversationRef = group ? { id: group.groupId, kind: 'group' } : { id: senderId, kind: 'dm' };
    const isMe = (who: { number?: string | null; uuid?: string } | undefined) => !!who && ((!!who.number && who.number === account) || (!!who.uuid && who.uuid === myUuid));
    const addressed = (data.mentions ?? []).some(isMe) || isMe(data.quote ? { number: data.quote.authorNumber ?? null, ...(data.quote.authorUuid ? { uuid: data.quote.authorUuid } : {}) } : undefined);
    const timestamp = data.timestamp ?? env.timestamp ?? 0;
    const platformId = `${env.sourceUuid ?? senderId}:${timestamp}`;
    const attachments: InboundAttachment[] = (data.attachments ?? []).map((a) => ({
      name: a.filename || a.id,
      ...(a.contentType ? { mimeType: a.contentType } : {}),
      ...(a.size === undefined ? {} : { size: a.size }),
      async download(s: AbortSignal) {
        const got = await rpc.call<{ data: string }>('getAttachment', params({ id: a.id, ...target(conversation) }), s);
        return new Uint8Array(Buffer.from(got.data, 'base64'));
      },
    }));
    return {
      platformId,
      conversation,
      ...(group?.groupName ? { conversationTitle: group.groupName } : {}),
      sender: { id: senderId, name: env.sourceName || senderId },
      // Mentions are U+FFFC placeholders in the text.
      text: (data.message ?? '').replace(/\uFFFC/g, ' ').replace(/\s+/g, ' ').trim(),
      attachments,
      addressed,
      ...(group ? { replyTo: `${senderId}:${timestamp}` } : {}),
    };
  };

  const onEvent = (event: SseEvent) => {
    chain = chain.then(async () => {
      if (event.event === 'receive') {
        const payload = JSON.parse(event.data) as { envelope?: Envelope; account?: string };
        const message = payload.envelope && (!payload.account || payload.account === account) ? toInbound(payload.envelope) : null;
        if (message) await ctx.receive(message);
      }
      // Stored first: a reconnect resumes after this event.
      if (event.id !== null) ctx.state.set('eventId', event.id);
    });
    chain.catch((err: unknown) => ctx.fail(err));
  };

  const listen = async (): Promise<void> => {
    if (signal.aborted) return;
    let ended = false;
    await openEventStream(`${base}/api/v1/events?account=${encodeURIComponent(account ?? '')}`, ctx.state.get('eventId'), signal, {
      onActivity: () => ctx.alive(limit),
      onEvent,
      onEnd: (err) => {
        if (ended || signal.aborted) return;
        ended = true;
        // The stream alone was cut (the daemon may well be up): open it again after what was stored.
        void chain.then(() => sleep(200, signal)).then(() => listen()).catch((e: unknown) => ctx.fail(new AppError('PROVIDER_UNAVAILABLE', `Signal: the event stream ended (${err.message}) and could not be reopened: ${e instanceof Error ? e.message : String(e)}`)));
      },
    });
    streaming = true;
    ctx.alive(limit);
  };

  /** No account yet: shows the device-link QR code until the phone scans it, then listens. */
  const link = async (): Promise<void> => {
    while (!signal.aborted) {
      const { deviceLinkUri } = await rpc.call<{ deviceLinkUri: string }>('startLink', {}, signal);
      ctx.showQr(deviceLinkUri);
      try {
        const linked = await rpc.call<{ number?: string | null; aci?: string }>('finishLink', { deviceLinkUri, deviceName: LINK_DEVICE_NAME }, signal);
        account = linked.number ?? linked.aci ?? null;
        myUuid = linked.aci ?? null;
        ctx.state.set('account', account);
        ctx.state.set('uuid', myUuid);
        ctx.state.set('eventId', null);
        ctx.showQr(null);
        ctx.showAccount(account);
        ctx.logger.info({ channel: 'signal' }, 'signal device linked');
        await listen();
        return;
      } catch (err) {
        // The link URI expired: a new one.
        if (signal.aborted) return;
        ctx.logger.warn({ channel: 'signal', err: err instanceof Error ? err.message : String(err) }, 'signal link attempt ended');
        await sleep(500, signal);
      }
    }
  };

  return {
    limits: { maxTextChars: 2_000, editIntervalMs: 1_000, typingIntervalMs: 10_000 },

    async start() {
      if (remote) base = remote;
      else {
        // A daemon left running by a gateway that was killed would hold the account: end it first.
        const stale = Number(ctx.state.get('daemonPid'));
        if (stale > 0 && killStaleDaemon(stale)) ctx.logger.warn({ channel: 'signal', pid: stale }, 'ended a signal-cli daemon left by an earlier run');
        daemon = await startSignalDaemon({ cliPath, http, signal, onExit: (err) => ctx.fail(err), onSpawn: (pid) => ctx.state.set('daemonPid', String(pid)) });
        base = daemon.url;
      }
      rpc = createRpcClient(base, http);
      // The daemon's health proves it alive until the event stream does.
      checker = setInterval(() => {
        if (streaming) return;
        void http
          .fetch(`${base}/api/v1/check`, { signal })
          .then((res) => res.ok && ctx.alive(limit))
          .catch(() => undefined);
      }, Math.max(200, Math.floor(limit / 4)));
      checker.unref();
      if (account) {
        try {
          // The account is known to this daemon (and its identities readable).
          await rpc.call('listIdentities', params({}), signal);
        } catch (err) {
          if (!(AppError.is(err) && err.code === 'NOT_FOUND')) throw err;
          if (ctx.setting('signal.account')) throw new AppError('NOT_CONFIGURED', `signal-cli has no account ${account}: register or link it, or clear signal.account to link this gateway by QR code`);
          account = null;
          ctx.state.set('account', null);
        }
      }
      ctx.showAccount(account);
      if (account) await listen();
      else void link().catch((err: unknown) => ctx.fail(err));
    },

    async stop() {
      if (checker) clearInterval(checker);
      if (daemon) {
        await daemon.stop();
        ctx.state.set('daemonPid', null);
      }
      http.close();
    },

    async sendText(to, message, s) {
      const quote = message.replyTo ? /^(.*):(\d+)$/.exec(message.replyTo) : null;
      const sent = await rpc.call<{ timestamp: number }>(
        'send',
        params({ ...target(to), message: message.text, ...(quote ? { quoteAuthor: quote[1], quoteTimestamp: Number(quote[2]) } : {}) }),
        s,
      );
      return { id: String(sent.timestamp) };
    },

    async sendTyping(to, s) {
      await rpc.call('sendTyping', params(target(to)), s);
    },

    async sendFile(to, file, s) {
      const bytes = await readFile(file.path);
      const uri = `data:${file.mimeType};filename=${encodeURIComponent(file.name)};base64,${bytes.toString('base64')}`;
      const sent = await rpc.call<{ timestamp: number }>('send', params({ ...target(to), message: file.caption ?? '', attachments: [uri] }), s);
      return { id: String(sent.timestamp) };
    },
  };
}
