/**
 * A local Discord for tests (never used by product code): the REST API under
 * `/api/v10` (bot-token auth, `GET /gateway/bot`, messages, typing,
 * interaction callbacks, 429 with `retry-after` on request) and the gateway
 * WebSocket on the wire discord.js speaks — HELLO with a heartbeat interval,
 * IDENTIFY → READY (+ GUILD_CREATE), heartbeats answered with ACK (or not,
 * for a zombie connection), dispatches numbered by `s`, and RESUME after a
 * cut replaying what was missed, then RESUMED.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { listenLocal } from './listen-local';
import { boundaryOf, parseMultipart } from './multipart';
import { createWaiters } from './waiters';

export interface DiscordUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

export interface DiscordSent {
  id: string;
  channelId: string;
  content: string;
  versions: string[];
  replyTo: string | null;
  components: unknown[];
  files: Array<{ name: string; bytes: Buffer }>;
}

export interface DiscordCall {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

export interface DiscordServerOptions {
  token?: string;
  heartbeatIntervalMs?: number;
  /** A guild (server) with one text channel the bot sees. */
  guild?: { id: string; name: string; channelId: string };
}

export interface DiscordServer {
  /** `discord.apiRoot`. */
  apiRoot: string;
  token: string;
  bot: DiscordUser;
  calls: DiscordCall[];
  sent: DiscordSent[];
  /** Opcodes the client sent (2 IDENTIFY, 6 RESUME, 1 heartbeat), in order. */
  received: Array<{ op: number; at: number }>;
  /** A user's message: a DM (the DM channel is `dm-<user id>`), or in the guild channel. */
  userMessage(opts: { author: DiscordUser; content: string; guild?: boolean; mentionBot?: boolean; replyTo?: string; attachment?: { name: string; bytes: Buffer; contentType: string } }): Record<string, unknown>;
  /** A raw dispatch (e.g. a malformed one). */
  dispatch(type: string, data: unknown): void;
  /** Any frame, as is, on the live gateway socket. */
  raw(payload: unknown): void;
  /** A button press on a message the bot sent. */
  pressButton(opts: { user: DiscordUser; channelId: string; messageId: string; customId: string }): void;
  /** Cuts the gateway connection (TCP); the client should resume. */
  cut(): void;
  /** While on, heartbeats get no ACK (a zombie connection: open socket, no liveness). */
  stopAcks(on: boolean): void;
  /** The next `count` REST calls matching `method path-prefix` get 429 with retry-after. */
  rateLimit(method: string, pathPrefix: string, retryAfterSec: number, count?: number): void;
  /** Number of open gateway sockets. */
  readonly sockets: number;
  waitForSent(pred: (m: DiscordSent) => boolean, timeoutMs?: number): Promise<DiscordSent>;
  waitForCall(pred: (c: DiscordCall) => boolean, timeoutMs?: number): Promise<DiscordCall>;
  close(): Promise<void>;
}

let snowflake = 1_200_000_000_000_000_000n;
const nextId = () => String(++snowflake);

export async function startDiscordServer(opts: DiscordServerOptions = {}): Promise<DiscordServer> {
  const token = opts.token ?? 'MTIz.discord-test-token';
  const interval = opts.heartbeatIntervalMs ?? 41_250;
  const bot: DiscordUser = { id: '900000000000000001', username: 'AutoClaw', bot: true };
  const calls: DiscordCall[] = [];
  const sent: DiscordSent[] = [];
  const received: Array<{ op: number; at: number }> = [];
  const waiters = createWaiters('discord server');
  const limits: Array<{ method: string; prefix: string; retryAfter: number; count: number }> = [];
  const files = new Map<string, { bytes: Buffer; contentType: string }>();
  /** The one session: its dispatch log (for RESUME) and its live socket. */
  let session: { id: string; seq: number; log: Array<{ s: number; t: string; d: unknown }>; ws: WebSocket | null } | null = null;
  let acks = true;
  let port = 0;

  const notify = waiters.notify;

  const messageObject = (channelId: string, author: DiscordUser, content: string, extra: Record<string, unknown> = {}) => ({
    id: nextId(),
    channel_id: channelId,
    author,
    content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    ...extra,
  });

  const send = (ws: WebSocket | null, payload: unknown) => {
    if (ws && ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
  };

  const dispatch = (t: string, d: unknown) => {
    if (!session) return;
    const s = ++session.seq;
    session.log.push({ s, t, d });
    send(session.ws, { op: 0, t, s, d });
  };

  const guildCreate = () =>
    opts.guild && {
      id: opts.guild.id,
      name: opts.guild.name,
      unavailable: false,
      owner_id: '1',
      roles: [{ id: opts.guild.id, name: '@everyone', permissions: '2248473465835073', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
      emojis: [],
      stickers: [],
      features: [],
      members: [],
      channels: [{ id: opts.guild.channelId, type: 0, name: 'general', position: 0, guild_id: opts.guild.id, permission_overwrites: [] }],
      threads: [],
      presences: [],
      voice_states: [],
      member_count: 2,
      large: false,
      joined_at: new Date().toISOString(),
      premium_tier: 0,
      system_channel_flags: 0,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      preferred_locale: 'en-US',
    };

  const onSocket = (ws: WebSocket) => {
    send(ws, { op: 10, d: { heartbeat_interval: interval } });
    ws.on('message', (raw) => {
      let payload: { op: number; d: Record<string, unknown> | number | null };
      try {
        payload = JSON.parse(raw.toString()) as typeof payload;
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      received.push({ op: payload.op, at: performance.now() });
      notify();
      const d = (payload.d ?? {}) as Record<string, unknown>;
      if (payload.op === 1) {
        if (acks) send(ws, { op: 11 });
      } else if (payload.op === 2) {
        if (d['token'] !== token) {
          ws.close(4004, 'Authentication failed');
          return;
        }
        session = { id: `s${nextId()}`, seq: 0, log: [], ws };
        const guild = guildCreate();
        dispatch('READY', {
          v: 10,
          user: bot,
          guilds: guild ? [{ id: guild.id, unavailable: true }] : [],
          session_id: session.id,
          resume_gateway_url: `ws://127.0.0.1:${port}/gateway`,
          shard: [0, 1],
          application: { id: bot.id, flags: 0 },
        });
        if (guild) dispatch('GUILD_CREATE', guild);
      } else if (payload.op === 6) {
        if (!session || d['session_id'] !== session.id || d['token'] !== token) {
          send(ws, { op: 9, d: false });
          return;
        }
        session.ws = ws;
        const after = Number(d['seq'] ?? 0);
        for (const event of session.log) if (event.s > after) send(ws, { op: 0, ...event });
        const s = ++session.seq;
        session.log.push({ s, t: 'RESUMED', d: {} });
        send(ws, { op: 0, t: 'RESUMED', s, d: {} });
      }
    });
    ws.on('close', () => {
      if (session?.ws === ws) session.ws = null;
    });
  };

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };

  const readBody = async (req: IncomingMessage): Promise<{ json: Record<string, unknown>; files: Array<{ name: string; bytes: Buffer }> }> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const parts = parseMultipart(raw, boundaryOf(type) ?? '');
      const json = JSON.parse(parts.find((p) => p.name === 'payload_json')?.data.toString('utf8') ?? '{}') as Record<string, unknown>;
      return { json, files: parts.filter((p) => p.filename !== null).map((p) => ({ name: p.filename ?? p.name, bytes: p.data })) };
    }
    return { json: raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {}, files: [] };
  };

  const rest = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const method = req.method ?? 'GET';
    const { json, files: uploads } = await readBody(req);
    calls.push({ method, path, body: json, at: performance.now() });
    notify();
    // Interaction callbacks are authorized by the interaction's token in the path, not the bot token.
    if (/^\/interactions\/[^/]+\/[^/]+\/callback$/.test(path) && method === 'POST') return reply(res, 204, null);
    if (req.headers.authorization !== `Bot ${token}`) return reply(res, 401, { message: '401: Unauthorized', code: 0 });
    const limit = limits.find((l) => l.method === method && path.startsWith(l.prefix) && l.count > 0);
    if (limit) {
      limit.count -= 1;
      return reply(res, 429, { message: 'You are being rate limited.', retry_after: limit.retryAfter, global: false }, {
        'retry-after': String(limit.retryAfter),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(limit.retryAfter),
        'x-ratelimit-bucket': 'test-bucket',
        'x-ratelimit-scope': 'user',
      });
    }
    let match: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      return reply(res, 200, { url: `ws://127.0.0.1:${port}/gateway`, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } });
    }
    if (method === 'GET' && path === '/users/@me') return reply(res, 200, bot);
    if ((match = /^\/channels\/([^/]+)\/typing$/.exec(path)) && method === 'POST') return reply(res, 204, null);
    if ((match = /^\/channels\/([^/]+)\/messages$/.exec(path)) && method === 'POST') {
      const channelId = match[1] ?? '';
      const content = String(json['content'] ?? '');
      if (content.length > 2000) return reply(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } });
      if (content.length === 0 && uploads.length === 0 && !json['components']) return reply(res, 400, { message: 'Cannot send an empty message', code: 50006 });
      const ref = json['message_reference'] as { message_id?: string } | undefined;
      const message = messageObject(channelId, bot, content, { components: json['components'] ?? [] });
      sent.push({ id: message.id, channelId, content, versions: [content], replyTo: ref?.message_id ?? null, components: (json['components'] as unknown[]) ?? [], files: uploads });
      return reply(res, 200, message);
    }
    if ((match = /^\/channels\/([^/]+)\/messages\/([^/]+)$/.exec(path)) && method === 'PATCH') {
      const message = sent.find((m) => m.channelId === match![1] && m.id === match![2]);
      if (!message) return reply(res, 404, { message: 'Unknown Message', code: 10008 });
      if ('content' in json) {
        message.content = String(json['content'] ?? '');
        message.versions.push(message.content);
      }
      if ('components' in json) message.components = (json['components'] as unknown[]) ?? [];
      return reply(res, 200, messageObject(message.channelId, bot, message.content, { id: message.id }));
    }
    if ((match = /^\/channels\/([^/]+)$/.exec(path)) && method === 'GET') {
      const id = match[1] ?? '';
      if (id.startsWith('dm-')) return reply(res, 200, { id, type: 1, recipients: [{ id: id.slice(3), username: 'user' }], last_message_id: null });
      if (opts.guild && id === opts.guild.channelId) return reply(res, 200, { id, type: 0, name: 'general', guild_id: opts.guild.id, position: 0, permission_overwrites: [] });
      return reply(res, 404, { message: 'Unknown Channel', code: 10003 });
    }
    return reply(res, 404, { message: '404: Not Found', code: 0 });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname.startsWith('/attachments/')) {
      const file = files.get(url.pathname.slice('/attachments/'.length));
      if (!file) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length }).end(file.bytes);
    }
    if (!url.pathname.startsWith('/api/v10/')) return void reply(res, 404, { message: '404: Not Found', code: 0 });
    rest(req, res, url.pathname.slice('/api/v10'.length))
      .catch((err: unknown) => {
        if (!res.headersSent) reply(res, 500, { message: String(err), code: 0 });
      })
      .finally(notify);
  });
  const wss = new WebSocketServer({ noServer: true });
  const listener = await listenLocal(server, { wss, path: '/gateway', onSocket: (ws) => onSocket(ws) });
  port = listener.port;


  return {
    apiRoot: `http://127.0.0.1:${port}/api`,
    token,
    bot,
    calls,
    sent,
    received,
    get sockets() {
      return wss.clients.size;
    },
    userMessage(o) {
      const inGuild = o.guild === true && opts.guild !== undefined;
      const channelId = inGuild ? opts.guild!.channelId : `dm-${o.author.id}`;
      const attachments = o.attachment
        ? (() => {
            const id = nextId();
            files.set(id, { bytes: o.attachment.bytes, contentType: o.attachment.contentType });
            return [{ id, filename: o.attachment.name, size: o.attachment.bytes.length, content_type: o.attachment.contentType, url: `http://127.0.0.1:${port}/attachments/${id}`, proxy_url: `http://127.0.0.1:${port}/attachments/${id}` }];
          })()
        : [];
      const message = messageObject(channelId, o.author, o.mentionBot ? `<@${bot.id}> ${o.content}` : o.content, {
        mentions: o.mentionBot ? [bot] : [],
        attachments,
        ...(inGuild ? { guild_id: opts.guild!.id, member: { roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 } } : { channel_type: 1 }),
        ...(o.replyTo ? { message_reference: { message_id: o.replyTo, channel_id: channelId }, type: 19, referenced_message: messageObject(channelId, bot, 'earlier', { id: o.replyTo }) } : {}),
      });
      dispatch('MESSAGE_CREATE', message);
      return message;
    },
    dispatch,
    raw(payload) {
      send(session?.ws ?? null, payload);
    },
    pressButton(o) {
      dispatch('INTERACTION_CREATE', {
        id: nextId(),
        application_id: bot.id,
        type: 3,
        token: `itoken-${nextId()}`,
        version: 1,
        channel_id: o.channelId,
        channel: { id: o.channelId, type: 1 },
        user: o.user,
        data: { custom_id: o.customId, component_type: 2 },
        message: messageObject(o.channelId, bot, sent.find((m) => m.id === o.messageId)?.content ?? '', { id: o.messageId }),
        entitlements: [],
        authorizing_integration_owners: {},
        app_permissions: '0',
        locale: 'en-US',
      });
    },
    cut() {
      for (const ws of wss.clients) ws.terminate();
    },
    stopAcks(on) {
      acks = !on;
    },
    rateLimit(method, prefix, retryAfter, count = 1) {
      limits.push({ method, prefix, retryAfter, count });
    },
    waitForSent: (pred, timeoutMs = 10_000) => waiters.until(() => sent.find(pred), timeoutMs, 'a sent message'),
    waitForCall: (pred, timeoutMs = 10_000) => waiters.until(() => calls.find(pred), timeoutMs, 'a REST call'),
    close: () => listener.close(),
  };
}
