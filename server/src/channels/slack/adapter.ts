/**
 * Slack through @slack/bolt in Socket Mode: DMs (`message.im`) and mentions
 * (`app_mention`, answered in the thread, one session per thread), approval
 * buttons as block actions. Bolt acknowledges Events API envelopes before
 * its listeners run; here an envelope is acknowledged after them, so a
 * message is stored before Slack hears it arrived (an unacknowledged one is
 * delivered again). Liveness is the Socket Mode connection's own pings and
 * pongs (the SDK's WebSocket reports them on diagnostics channels); the SDK
 * reconnects a dead socket, the watchdog bounds how long that may take.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { LogLevel } from '@slack/bolt';
import { AppError } from '@autoclaw/shared';
import { createHttpClient } from '../http-client';
import { platformError } from '../platform-error';
import { App, SocketModeReceiver } from './bolt';
import type { ChannelAdapter, ChannelContext, ConversationRef, InboundAttachment } from '../types';

export const SLACK_API_ROOT = 'https://slack.com/api/';
const PING_CHANNELS = ['undici:websocket:ping', 'undici:websocket:pong'];
const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);
const MISSING = new Set(['channel_not_found', 'message_not_found', 'thread_not_found']);

interface SlackErrorLike {
  code?: string;
  retryAfter?: number;
  data?: { error?: string };
  statusCode?: number;
  message?: string;
}

export function slackError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = (err ?? {}) as SlackErrorLike;
  if (e.code === 'slack_webapi_rate_limited_error') return platformError('Slack', 429, 'rate limited', { retryAfterMs: (e.retryAfter ?? 1) * 1000, cause: err });
  if (e.code === 'slack_webapi_platform_error') {
    const what = e.data?.error ?? 'error';
    if (AUTH_ERRORS.has(what)) return new AppError('UNAUTHORIZED', `Slack refused the token (${what})`, { cause: err });
    if (MISSING.has(what)) return platformError('Slack', 404, what, { cause: err });
    if (what === 'msg_too_long') return platformError('Slack', 413, what, { cause: err });
    if (what === 'missing_scope' || what === 'not_in_channel' || what === 'restricted_action') return platformError('Slack', 403, what, { cause: err });
    return platformError('Slack', 400, what, { cause: err });
  }
  if (e.code === 'slack_webapi_http_error') return platformError('Slack', e.statusCode ?? null, e.message ?? 'HTTP error', { cause: err });
  return platformError('Slack', null, e.message ?? String(err), { cause: err });
}

interface SlackMessageEvent {
  type: string;
  subtype?: string;
  channel: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  files?: Array<{ id: string; name?: string; mimetype?: string; size?: number; url_private_download?: string }>;
}

export function createSlackAdapter(ctx: ChannelContext): ChannelAdapter {
  const botToken = ctx.setting('slack.botToken') ?? '';
  const appToken = ctx.setting('slack.appToken') ?? '';
  const apiRoot = (ctx.setting('slack.apiRoot') ?? SLACK_API_ROOT).replace(/\/*$/, '/');
  const limit = ctx.tuning.livenessMs ?? 20_000;
  const http = createHttpClient();
  const names = new Map<string, string>();
  // Waits and retries stay ours (the outbound queue honours Retry-After), not the client's half-hour retry plan.
  const clientOptions = { slackApiUrl: apiRoot, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, timeout: 30_000 };
  const note = (level: 'warn' | 'error') => (...parts: unknown[]) => ctx.logger[level]({ channel: 'slack', detail: parts.map(String).join(' ').slice(0, 300) }, 'slack sdk');
  const logger = {
    debug() {},
    info() {},
    warn: note('warn'),
    error: note('error'),
    setLevel() {},
    getLevel: () => 'warn' as LogLevel,
    setName() {},
  };
  const receiver = new SocketModeReceiver({
    appToken,
    logger,
    installerOptions: { clientOptions },
    // The SDK pings every third of this and drops a socket whose pongs stop.
    clientPingTimeout: Math.min(5_000, Math.floor(limit / 3)),
    serverPingTimeout: limit,
  });
  const app = new App({ token: botToken, receiver, clientOptions, logger, ignoreSelf: true });
  app.error(async (err) => {
    throw err;
  });

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw slackError(err);
    }
  };

  // Store, then acknowledge: bolt's own receiver wiring acknowledges first.
  receiver.client.removeAllListeners('slack_event');
  receiver.client.on(
    'slack_event',
    ctx.guard(async (args: { ack: () => Promise<void>; body: Record<string, unknown>; retry_num?: number; retry_reason?: string }) => {
      await app.processEvent({
        body: args.body,
        ack: async () => {},
        ...(args.retry_num === undefined ? {} : { retryNum: args.retry_num }),
        ...(args.retry_reason === undefined ? {} : { retryReason: args.retry_reason }),
      });
      await args.ack();
    }),
  );
  // Only pings and pongs prove the socket: a `hello` also comes on a connection that then goes silent.
  const beat = () => ctx.alive(limit);

  const nameOf = async (user: string): Promise<string> => {
    if (!names.has(user)) {
      const info = await app.client.users.info({ user }).catch(() => null);
      const profile = info?.user?.profile;
      names.set(user, profile?.display_name || info?.user?.real_name || user);
    }
    return names.get(user) ?? user;
  };

  const attachmentsOf = (event: SlackMessageEvent): InboundAttachment[] =>
    (event.files ?? [])
      .filter((f) => f.url_private_download)
      .map((f) => ({
        name: f.name ?? f.id,
        ...(f.mimetype ? { mimeType: f.mimetype } : {}),
        ...(f.size === undefined ? {} : { size: f.size }),
        async download(signal: AbortSignal) {
          const res = await http.fetch(f.url_private_download!, { headers: { authorization: `Bearer ${botToken}` }, signal });
          if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
          return res.bytes();
        },
      }));

  const receive = async (event: SlackMessageEvent, conversation: ConversationRef, me: string | undefined) => {
    if (!event.user || event.bot_id) return;
    await ctx.receive({
      platformId: `${event.channel}:${event.ts}`,
      conversation,
      sender: { id: event.user, name: await nameOf(event.user) },
      text: (event.text ?? '').replace(me ? new RegExp(`<@${me}>`, 'g') : /$^/, '').trim(),
      attachments: attachmentsOf(event),
      addressed: true,
    });
  };

  // DMs: one session each; mentions in channels: one session per thread, answered in it.
  app.event('message', async ({ event, context }) => {
    const m = event as unknown as SlackMessageEvent;
    if (m.channel_type !== 'im' || (m.subtype !== undefined && m.subtype !== 'file_share')) return;
    await receive(m, { id: m.channel, kind: 'dm' }, context.botUserId);
  });

  app.event('app_mention', async ({ event, context }) => {
    const m = event as unknown as SlackMessageEvent;
    await receive(m, { id: m.channel, kind: 'group', thread: m.thread_ts ?? m.ts }, context.botUserId);
  });

  app.action(/^ap:[yn]$/, async ({ action, body }) => {
    const value = 'value' in action ? String(action.value) : '';
    const approve = 'action_id' in action && action.action_id === 'ap:y';
    const user = body.user.id;
    const answered = await ctx.answerApproval(value, approve, { id: user, name: await nameOf(user) });
    const message = 'message' in body ? (body.message as { ts?: string; text?: string } | undefined) : undefined;
    const channel = body.channel?.id;
    if (answered && message?.ts && channel) {
      await app.client.chat.update({ channel, ts: message.ts, text: `${message.text ?? ''}\n\n${approve ? '✅ Approved' : '❌ Denied'}`, blocks: [] });
    }
  });

  return {
    limits: { maxTextChars: 4_000, editIntervalMs: 1_000, typingIntervalMs: 0 },

    async start() {
      for (const name of PING_CHANNELS) subscribe(name, beat);
      await call(() => app.start());
    },

    async stop() {
      for (const name of PING_CHANNELS) unsubscribe(name, beat);
      await app.stop().catch(() => undefined);
      http.close();
    },

    async sendText(to, message) {
      const res = await call(() => app.client.chat.postMessage({ channel: to.id, text: message.text, ...(to.thread ? { thread_ts: to.thread } : {}) }));
      return { id: String(res.ts) };
    },

    async editText(to, messageId, text) {
      await call(() => app.client.chat.update({ channel: to.id, ts: messageId, text }));
    },

    async sendFile(to, file) {
      const upload = to.thread
        ? { channel_id: to.id, thread_ts: to.thread, file: file.path, filename: file.name }
        : { channel_id: to.id, file: file.path, filename: file.name };
      const res = await call(() => app.client.files.uploadV2(upload));
      const uploaded = (res as { files?: Array<{ files?: Array<{ id?: string }> }> }).files?.[0]?.files?.[0]?.id;
      return { id: uploaded ?? file.name };
    },

    async sendApproval(to, prompt) {
      const text = `${prompt.title}\n${prompt.detail}`;
      const res = await call(() =>
        app.client.chat.postMessage({
          channel: to.id,
          text,
          ...(to.thread ? { thread_ts: to.thread } : {}),
          blocks: [
            { type: 'section', text: { type: 'plain_text', text: text.slice(0, 2_900) } },
            {
              type: 'actions',
              block_id: 'approval',
              elements: [
                { type: 'button', action_id: 'ap:y', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: prompt.toolCallId },
                { type: 'button', action_id: 'ap:n', style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value: prompt.toolCallId },
              ],
            },
          ],
        }),
      );
      return { id: String(res.ts) };
    },
  };
}
