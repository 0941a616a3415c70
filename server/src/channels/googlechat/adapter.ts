/**
 * Google Chat as an HTTP endpoint app. Chat POSTs each event to
 * `/channels/googlechat/events` with a Google-signed bearer JWT, verified
 * with google-auth-library against Google's certificates
 * (`googlechat.certsUrl`; fetched and cached by their max-age): for an
 * audience that is the project number the token is issued by
 * chat@system.gserviceaccount.com, for an endpoint-URL audience it is an
 * OpenID token from accounts.google.com whose email is that account.
 * A refused event is answered 401 and nothing is stored. Being added to a
 * space is answered synchronously in the HTTP response; answers to
 * messages go asynchronously through the Chat API (@googleapis/chat, root
 * `googlechat.apiRoot`) with the service account's token (service-token.ts),
 * streamed by patching the message. The libraries load with the first
 * event or send. Liveness: the certificates URL answers.
 */
import type { chat_v1 } from '@googleapis/chat';
import type { OAuth2Client } from 'google-auth-library';
import { AppError } from '@autoclaw/shared';
import { bearerOf, commonJs, jsonBody, refused, sleep } from '../endpoint-kit';
import { createHttpClient } from '../http-client';
import { platformError } from '../platform-error';
import type { ChannelAdapter, ChannelContext, ConversationRef } from '../types';
import { serviceAccountToken, type ServiceAccount } from './service-token';

const CHAT_ISSUER = 'chat@system.gserviceaccount.com';
const PROJECT_CERTS = 'https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com';
const OIDC_CERTS = 'https://www.googleapis.com/oauth2/v1/certs';
const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const API_ROOT = 'https://chat.googleapis.com/';

interface ChatEvent {
  type?: string;
  space?: chat_v1.Schema$Space;
  message?: chat_v1.Schema$Message;
  user?: chat_v1.Schema$User;
}

export function chatError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { status?: number; response?: { status?: number; headers?: { get?(n: string): string | null } }; message?: string };
  const status = e.status ?? e.response?.status ?? null;
  const after = Number(e.response?.headers?.get?.('retry-after'));
  return platformError('Google Chat', status, e.message ?? String(err), { ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}), cause: err });
}

export function createGoogleChatAdapter(ctx: ChannelContext): ChannelAdapter {
  const audience = ctx.setting('googlechat.audience') ?? '';
  const byProject = /^\d+$/.test(audience);
  const certsUrl = ctx.setting('googlechat.certsUrl') ?? (byProject ? PROJECT_CERTS : OIDC_CERTS);
  const tokenUrl = ctx.setting('googlechat.tokenUrl') ?? TOKEN_URL;
  const apiRoot = (ctx.setting('googlechat.apiRoot') ?? API_ROOT).replace(/\/*$/, '/');
  const livenessMs = ctx.tuning.livenessMs ?? 300_000;
  const account = JSON.parse(ctx.setting('googlechat.serviceAccount') ?? '{}') as ServiceAccount;
  const http = createHttpClient();
  const { signal } = ctx;
  let token: { accessToken: string; expiresAt: number } | null = null;
  let verifier: Promise<OAuth2Client> | null = null;
  let api: Promise<chat_v1.Chat> | null = null;

  const accessToken = async (callSignal: AbortSignal) => {
    // Renewed five minutes early.
    if (!token || token.expiresAt - 300_000 <= ctx.now()) token = await serviceAccountToken({ http, account, tokenUrl, nowMs: ctx.now(), signal: callSignal });
    return token;
  };

  const loadVerifier = () =>
    (verifier ??= import('google-auth-library').then(commonJs).then(({ OAuth2Client }) => new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: certsUrl } })));

  const chat = () =>
    // The Chat client takes the auth client of its own google-auth-library (googleapis-common's copy).
    (api ??= import('@googleapis/chat').then(commonJs).then(({ chat: chatApi, auth: authPlus }) => {
      const auth = new authPlus.OAuth2();
      // Our service-account flow hands the library its tokens (the endpoint is a setting).
      auth.refreshHandler = async () => {
        const t = await accessToken(signal);
        return { access_token: t.accessToken, expiry_date: t.expiresAt };
      };
      return chatApi({ version: 'v1', auth, rootUrl: apiRoot });
    }));

  /** Null when the event may be trusted; else why not. */
  const verify = async (jwt: string | null): Promise<string | null> => {
    if (!jwt) return 'no bearer token';
    try {
      const client = await loadVerifier();
      const { certs } = await client.getFederatedSignonCertsAsync();
      const ticket = await client.verifySignedJwtWithCertsAsync(jwt, certs, audience, byProject ? [CHAT_ISSUER] : ['accounts.google.com', 'https://accounts.google.com']);
      const payload = ticket.getPayload();
      if (!payload) return 'token without claims';
      if (!byProject && (payload.email !== CHAT_ISSUER || payload.email_verified !== true)) return 'token not issued to Google Chat';
      return null;
    } catch (err) {
      return err instanceof Error ? err.message.slice(0, 200) : 'token refused';
    }
  };

  const onMessage = async (event: ChatEvent): Promise<void> => {
    const message = event.message;
    const space = message?.space ?? event.space;
    if (!message?.name || !space?.name || !message.sender?.name) return;
    if (message.sender.type === 'BOT') return;
    const dm = space.type === 'DM' || space.spaceType === 'DIRECT_MESSAGE' || space.singleUserBotDm === true;
    const mentioned = (message.annotations ?? []).some((a) => a.type === 'USER_MENTION' && a.userMention?.user?.type === 'BOT') || Boolean(message.slashCommand);
    const conversation: ConversationRef = dm ? { id: space.name, kind: 'dm' } : { id: space.name, kind: 'group', ...(message.thread?.name ? { thread: message.thread.name } : {}) };
    await ctx.receive({
      platformId: message.name,
      conversation,
      ...(!dm && space.displayName ? { conversationTitle: space.displayName } : {}),
      sender: { id: message.sender.name, name: message.sender.displayName || message.sender.name },
      text: (message.argumentText ?? message.text ?? '').trim(),
      attachments: (message.attachment ?? []).flatMap((a) => {
        const resourceName = a.attachmentDataRef?.resourceName;
        if (!resourceName) return [];
        return [
          {
            name: a.contentName ?? 'file',
            ...(a.contentType ? { mimeType: a.contentType } : {}),
            async download(downloadSignal: AbortSignal) {
              const res = await (await chat()).media.download({ resourceName, alt: 'media' }, { responseType: 'arraybuffer', signal: downloadSignal });
              return new Uint8Array(res.data as unknown as ArrayBuffer);
            },
          },
        ];
      }),
      addressed: dm || mentioned,
    });
  };

  const certsAnswer = async () => {
    const res = await http.fetch(certsUrl, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
    await res.arrayBuffer();
    if (!res.ok) throw platformError('Google Chat', res.status, 'certificates unavailable');
  };

  const keepAlive = async () => {
    while (!signal.aborted) {
      await sleep(Math.max(1_000, Math.floor(livenessMs / 3)), signal);
      if (signal.aborted) return;
      try {
        await certsAnswer();
        ctx.alive(livenessMs);
      } catch (err) {
        if (!signal.aborted) ctx.logger.warn({ channel: 'googlechat', err: err instanceof Error ? err.message : String(err) }, 'Google certificates unreachable');
      }
    }
  };

  const call = async <T>(fn: (c: chat_v1.Chat) => Promise<T>): Promise<T> => {
    try {
      return await fn(await chat());
    } catch (err) {
      throw chatError(err);
    }
  };

  return {
    limits: { maxTextChars: 4_000, editIntervalMs: 1_000, typingIntervalMs: 0 },

    async start() {
      if (typeof account.client_email !== 'string' || typeof account.private_key !== 'string') throw new AppError('NOT_CONFIGURED', 'googlechat.serviceAccount is not a service account key');
      await accessToken(signal);
      await certsAnswer();
      ctx.alive(livenessMs);
      ctx.route('POST', '/events', async (req) => {
        const why = await verify(bearerOf(req));
        if (why) return refused(why);
        const event = jsonBody<ChatEvent>(req);
        if (!event || typeof event.type !== 'string') return refused('not a Google Chat event', 400);
        ctx.alive(livenessMs);
        if (event.type === 'ADDED_TO_SPACE' && !event.message) {
          // The one answer given in the HTTP response: nothing to store.
          return { status: 200, body: { text: 'Hi! Mention me to ask something here, or message me directly.' } };
        }
        // Answered after the message is stored; the answer follows through the Chat API.
        if (event.type === 'MESSAGE') await onMessage(event);
        return { status: 200, body: {} };
      });
      void keepAlive();
    },

    async stop() {
      http.close();
    },

    async sendText(to, message, sendSignal) {
      const res = await call((c) =>
        c.spaces.messages.create(
          { parent: to.id, ...(to.thread ? { messageReplyOption: 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD' } : {}), requestBody: { text: message.text, ...(to.thread ? { thread: { name: to.thread } } : {}) } },
          { signal: sendSignal },
        ),
      );
      return { id: res.data.name ?? '' };
    },

    async editText(_to, messageId, text, sendSignal) {
      await call((c) => c.spaces.messages.patch({ name: messageId, updateMask: 'text', requestBody: { text } }, { signal: sendSignal }));
    },
  };
}
