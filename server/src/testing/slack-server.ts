/**
 * A local Slack for tests (never used by product code): the Web API under
 * `/api/<method>` (bot and app-level tokens, `{ok: false, error}` bodies,
 * 429 with Retry-After on request, the files upload flow) and Socket Mode —
 * `apps.connections.open` hands out a WebSocket URL, the socket says
 * `hello`, events come as `events_api` / `interactive` envelopes that the
 * app acknowledges with their `envelope_id`, and the server pings and
 * answers pings (or goes silent, for a zombie connection).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { listenLocal } from './listen-local';
import { boundaryOf, parseMultipart } from './multipart';
import { createWaiters } from './waiters';

export interface SlackSent {
  channel: string;
  ts: string;
  text: string;
  versions: string[];
  threadTs: string | null;
  blocks: unknown[];
  files: Array<{ name: string; bytes: Buffer }>;
}

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
}

export interface SlackServer {
  /** `slack.apiRoot`. */
  apiRoot: string;
  botToken: string;
  appToken: string;
  botUserId: string;
  calls: SlackCall[];
  sent: SlackSent[];
  /** Envelope ids acknowledged, with when (Date.now()). */
  acks: Map<string, number>;
  /** A DM (channel `D<user>`) or a mention in a channel (`C1`): returns the envelope id. */
  userMessage(opts: { user: string; text: string; channel?: string; mention?: boolean; threadTs?: string; ts?: string; file?: { name: string; bytes: Buffer; mimetype: string } }): { envelopeId: string; ts: string; channel: string };
  /** Sends an envelope again, as Slack retries one it got no ack for. */
  redeliver(envelopeId: string): void;
  pressButton(opts: { user: string; channel: string; ts: string; actionId: string; value: string }): string;
  /** While on: no pings from the server, no pongs to the client's pings (the socket stays open). */
  silence(on: boolean): void;
  rateLimit(method: string, retryAfterSec: number, count?: number): void;
  readonly connections: number;
  waitForSent(pred: (m: SlackSent) => boolean, timeoutMs?: number): Promise<SlackSent>;
  waitForCall(pred: (c: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  close(): Promise<void>;
}

export async function startSlackServer(opts: { pingIntervalMs?: number } = {}): Promise<SlackServer> {
  const botToken = 'xoxb-test-bot-token';
  const appToken = 'xapp-test-app-token';
  const botUserId = 'UBOT0001';
  const calls: SlackCall[] = [];
  const sent: SlackSent[] = [];
  const acks = new Map<string, number>();
  const envelopes = new Map<string, Record<string, unknown>>();
  const files = new Map<string, { name: string; bytes: Buffer }>();
  const uploads = new Map<string, { name: string; bytes: Buffer | null }>();
  const limits: Array<{ method: string; retryAfter: number; count: number }> = [];
  const waiters = createWaiters('slack server');
  let silent = false;
  let counter = 0;
  let port = 0;
  let tsClock = 1_700_000_000;
  const nextTs = () => `${++tsClock}.${String(++counter).padStart(6, '0')}`;

  const wss = new WebSocketServer({ noServer: true, autoPong: false });
  const live = () => [...wss.clients].filter((ws) => ws.readyState === ws.OPEN);
  const send = (envelope: Record<string, unknown>) => {
    const text = JSON.stringify(envelope);
    for (const ws of live()) ws.send(text);
  };
  const pinger = setInterval(() => {
    if (!silent) for (const ws of live()) ws.ping('server ping');
  }, opts.pingIntervalMs ?? 5_000);

  wss.on('connection', (ws: WebSocket) => {
    ws.on('ping', (data) => {
      if (!silent) ws.pong(data);
    });
    ws.on('message', (raw) => {
      try {
        const message = JSON.parse(raw.toString()) as { envelope_id?: string };
        if (message.envelope_id) acks.set(message.envelope_id, Date.now());
      } catch {
        // not ours to judge
      }
      waiters.notify();
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: wss.clients.size, debug_info: { host: 'local' }, connection_info: { app_id: 'A0001' } }));
  });

  const envelope = (type: 'events_api' | 'interactive', payload: Record<string, unknown>) => {
    const envelopeId = `env-${++counter}`;
    const body = { envelope_id: envelopeId, type, payload, accepts_response_payload: false, retry_attempt: 0, retry_reason: '' };
    envelopes.set(envelopeId, body);
    send(body);
    return envelopeId;
  };

  const api = async (method: string, body: Record<string, unknown>, auth: string | undefined): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> => {
    const token = auth?.replace(/^Bearer /, '') ?? (body['token'] as string | undefined);
    const limit = limits.find((l) => l.method === method && l.count > 0);
    if (limit) {
      limit.count -= 1;
      return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(limit.retryAfter) } };
    }
    if (method === 'apps.connections.open') {
      if (token !== appToken) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
      return { status: 200, body: { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=t${++counter}` } };
    }
    if (token !== botToken) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    switch (method) {
      case 'auth.test':
        return { status: 200, body: { ok: true, url: 'https://team.slack.invalid/', team: 'Team', user: 'autoclaw', team_id: 'T0001', user_id: botUserId, bot_id: 'B0001', is_enterprise_install: false } };
      case 'users.info': {
        const id = String(body['user']);
        return { status: 200, body: { ok: true, user: { id, name: id.toLowerCase(), real_name: `Person ${id}`, profile: { display_name: `Person ${id}`, real_name: `Person ${id}` } } } };
      }
      case 'chat.postMessage': {
        const text = String(body['text'] ?? '');
        if (text.length > 40_000) return { status: 200, body: { ok: false, error: 'msg_too_long' } };
        const ts = nextTs();
        const blocks = typeof body['blocks'] === 'string' ? (JSON.parse(body['blocks']) as unknown[]) : ((body['blocks'] as unknown[]) ?? []);
        const channel = String(body['channel']);
        sent.push({ channel, ts, text, versions: [text], threadTs: (body['thread_ts'] as string | undefined) ?? null, blocks, files: [] });
        return { status: 200, body: { ok: true, channel, ts, message: { type: 'message', text, user: botUserId, ts } } };
      }
      case 'chat.update': {
        const message = sent.find((m) => m.channel === body['channel'] && m.ts === body['ts']);
        if (!message) return { status: 200, body: { ok: false, error: 'message_not_found' } };
        message.text = String(body['text'] ?? '');
        message.versions.push(message.text);
        if ('blocks' in body) message.blocks = typeof body['blocks'] === 'string' ? (JSON.parse(body['blocks']) as unknown[]) : ((body['blocks'] as unknown[]) ?? []);
        return { status: 200, body: { ok: true, channel: message.channel, ts: message.ts, text: message.text } };
      }
      case 'files.getUploadURLExternal': {
        const id = `F${++counter}`;
        uploads.set(id, { name: String(body['filename']), bytes: null });
        return { status: 200, body: { ok: true, upload_url: `http://127.0.0.1:${port}/upload/${id}`, file_id: id } };
      }
      case 'files.completeUploadExternal': {
        const list = typeof body['files'] === 'string' ? (JSON.parse(body['files']) as Array<{ id: string }>) : (body['files'] as Array<{ id: string }>);
        const channel = String(body['channel_id'] ?? '');
        const done = list.map((f) => ({ id: f.id, name: uploads.get(f.id)?.name ?? f.id }));
        const ts = nextTs();
        sent.push({ channel, ts, text: String(body['initial_comment'] ?? ''), versions: [], threadTs: (body['thread_ts'] as string | undefined) ?? null, blocks: [], files: list.map((f) => ({ name: uploads.get(f.id)?.name ?? f.id, bytes: uploads.get(f.id)?.bytes ?? Buffer.alloc(0) })) });
        return { status: 200, body: { ok: true, files: done } };
      }
      default:
        return { status: 200, body: { ok: false, error: 'unknown_method' } };
    }
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers }).end(text);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const raw = await readBody(req);
      if (url.pathname.startsWith('/upload/')) {
        const id = url.pathname.slice('/upload/'.length);
        const type = req.headers['content-type'] ?? '';
        const part = type.startsWith('multipart/form-data') ? parseMultipart(raw, boundaryOf(type) ?? '').find((p) => p.filename !== null) : null;
        const upload = uploads.get(id);
        if (!upload) return reply(res, 404, 'no such upload');
        upload.bytes = part ? part.data : raw;
        return reply(res, 200, 'OK - 0');
      }
      if (url.pathname.startsWith('/files/')) {
        const file = files.get(url.pathname.slice('/files/'.length));
        if (!file || req.headers.authorization !== `Bearer ${botToken}`) return reply(res, 404, 'not found');
        return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file.bytes);
      }
      const method = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname)?.[1];
      if (!method) return reply(res, 404, { ok: false, error: 'unknown_method' });
      const type = req.headers['content-type'] ?? '';
      const body: Record<string, unknown> = type.includes('application/json')
        ? (JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
      calls.push({ method, body, at: performance.now() });
      const answer = await api(method, body, req.headers.authorization);
      reply(res, answer.status, answer.body, answer.headers);
    })()
      .catch((err: unknown) => {
        if (!res.headersSent) reply(res, 500, { ok: false, error: String(err) });
      })
      .finally(waiters.notify);
  });
  const listener = await listenLocal(server, { wss, path: '/link/', onSocket: (ws, req) => wss.emit('connection', ws, req) });
  port = listener.port;

  return {
    apiRoot: `http://127.0.0.1:${port}/api/`,
    botToken,
    appToken,
    botUserId,
    calls,
    sent,
    acks,
    get connections() {
      return live().length;
    },
    userMessage(o) {
      const channel = o.channel ?? `D${o.user}`;
      const ts = o.ts ?? nextTs();
      const im = channel.startsWith('D');
      const event: Record<string, unknown> = {
        type: o.mention ? 'app_mention' : 'message',
        channel,
        user: o.user,
        text: o.mention ? `<@${botUserId}> ${o.text}` : o.text,
        ts,
        event_ts: ts,
        team: 'T0001',
        ...(im ? { channel_type: 'im' } : {}),
        ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
      };
      if (o.file) {
        const id = `F${++counter}`;
        files.set(id, { name: o.file.name, bytes: o.file.bytes });
        event['subtype'] = 'file_share';
        event['files'] = [{ id, name: o.file.name, mimetype: o.file.mimetype, size: o.file.bytes.length, url_private_download: `http://127.0.0.1:${port}/files/${id}` }];
      }
      const envelopeId = envelope('events_api', {
        token: 'verification',
        team_id: 'T0001',
        api_app_id: 'A0001',
        type: 'event_callback',
        event_id: `Ev${++counter}`,
        event_time: tsClock,
        authorizations: [{ team_id: 'T0001', user_id: botUserId, is_bot: true, is_enterprise_install: false }],
        event,
      });
      return { envelopeId, ts, channel };
    },
    redeliver(envelopeId) {
      const body = envelopes.get(envelopeId);
      if (body) send({ ...body, retry_attempt: Number(body['retry_attempt'] ?? 0) + 1, retry_reason: 'timeout' });
    },
    pressButton(o) {
      return envelope('interactive', {
        type: 'block_actions',
        team: { id: 'T0001' },
        user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase() },
        api_app_id: 'A0001',
        token: 'verification',
        trigger_id: `trigger-${++counter}`,
        channel: { id: o.channel, name: 'directmessage' },
        container: { type: 'message', message_ts: o.ts, channel_id: o.channel, is_ephemeral: false },
        message: { type: 'message', ts: o.ts, text: sent.find((m) => m.ts === o.ts)?.text ?? '', user: botUserId },
        response_url: `http://127.0.0.1:${port}/response`,
        actions: [{ type: 'button', action_id: o.actionId, block_id: 'approval', value: o.value, action_ts: nextTs() }],
      });
    },
    silence(on) {
      silent = on;
    },
    rateLimit(method, retryAfter, count = 1) {
      limits.push({ method, retryAfter, count });
    },
    waitForSent: (pred, timeoutMs = 10_000) => waiters.until(() => sent.find(pred), timeoutMs, 'a sent message'),
    waitForCall: (pred, timeoutMs = 10_000) => waiters.until(() => calls.find(pred), timeoutMs, 'a Web API call'),
    async close() {
      clearInterval(pinger);
      await listener.close();
    },
  };
}
