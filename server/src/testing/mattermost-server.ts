/**
 * A local Mattermost for tests (never used by product code): REST API v4
 * (bearer token; users/me, posts, patches, files, channels) with its error
 * body `{id, message, status_code}` and 429 on request, and the WebSocket at
 * `/api/v4/websocket` — `authentication_challenge`, `hello` (seq 0), events
 * numbered by `seq`, replies to `ping` (or none, for a silent server) and
 * `user_typing`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { listenLocal } from './listen-local';
import { boundaryOf, parseMultipart } from './multipart';
import { createWaiters } from './waiters';

export interface MattermostPost {
  id: string;
  channel_id: string;
  user_id: string;
  message: string;
  root_id: string;
  file_ids: string[];
  create_at: number;
  update_at: number;
}

export interface MattermostCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface MattermostServer {
  /** `mattermost.url`. */
  url: string;
  token: string;
  botUserId: string;
  calls: MattermostCall[];
  /** Posts the bot made (edits applied), oldest first. */
  botPosts(channelId?: string): MattermostPost[];
  /** Actions the client sent over the socket (authentication_challenge, ping, user_typing). */
  actions: Array<{ action: string; data: unknown }>;
  /** A user's post: channel type D (direct) unless a channel is given. */
  userPost(opts: { user: string; username: string; message: string; channel?: { id: string; type: 'O' | 'P' | 'G'; name: string }; mention?: boolean; rootId?: string; file?: { name: string; bytes: Buffer } }): MattermostPost;
  /** The same `posted` event once more (a redelivery). */
  repost(post: MattermostPost): void;
  /** While on, pings get no reply (the socket stays open). */
  silence(on: boolean): void;
  rateLimit(pathPart: string, retryAfterSec: number, count?: number): void;
  waitForPost(pred: (p: MattermostPost) => boolean, timeoutMs?: number): Promise<MattermostPost>;
  waitForCall(pred: (c: MattermostCall) => boolean, timeoutMs?: number): Promise<MattermostCall>;
  close(): Promise<void>;
}

export async function startMattermostServer(): Promise<MattermostServer> {
  const token = 'mm-test-bot-token';
  const botUserId = 'botuserid00000000000000001';
  const posts = new Map<string, MattermostPost>();
  const calls: MattermostCall[] = [];
  const actions: Array<{ action: string; data: unknown }> = [];
  const files = new Map<string, { name: string; bytes: Buffer }>();
  const channelTypes = new Map<string, { type: string; name: string }>();
  const limits: Array<{ part: string; retryAfter: number; count: number }> = [];
  const waiters = createWaiters('mattermost server');
  const sockets = new Map<WebSocket, { seq: number; authed: boolean }>();
  let silent = false;
  let counter = 0;
  const id = (prefix: string) => `${prefix}${String(++counter).padStart(25 - prefix.length, '0')}`;

  const emit = (event: string, data: Record<string, unknown>, channelId = '') => {
    for (const [ws, state] of sockets) {
      if (!state.authed || ws.readyState !== ws.OPEN) continue;
      ws.send(JSON.stringify({ event, data, broadcast: { omit_users: null, user_id: '', channel_id: channelId, team_id: '' }, seq: state.seq++ }));
    }
  };

  const posted = (post: MattermostPost, username: string, mentions: string[]) => {
    const channel = channelTypes.get(post.channel_id) ?? { type: 'D', name: `${botUserId}__${post.user_id}` };
    emit(
      'posted',
      { channel_display_name: channel.name, channel_name: channel.name, channel_type: channel.type, post: JSON.stringify(post), sender_name: `@${username}`, team_id: 'team1', ...(mentions.length > 0 ? { mentions: JSON.stringify(mentions) } : {}) },
      post.channel_id,
    );
  };

  const wss = new WebSocketServer({ noServer: true });
  const onSocket = (ws: WebSocket) => {
    const state = { seq: 0, authed: false };
    sockets.set(ws, state);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { action: string; seq: number; data?: Record<string, unknown> };
      actions.push({ action: msg.action, data: msg.data ?? null });
      waiters.notify();
      if (msg.action === 'authentication_challenge') {
        if (msg.data?.['token'] !== token) return void ws.close(4001, 'unauthorized');
        state.authed = true;
        ws.send(JSON.stringify({ status: 'OK', seq_reply: msg.seq }));
        ws.send(JSON.stringify({ event: 'hello', data: { connection_id: id('conn'), server_version: '9.11.0' }, broadcast: { omit_users: null, user_id: botUserId, channel_id: '', team_id: '' }, seq: state.seq++ }));
        return;
      }
      if (msg.action === 'ping') {
        if (!silent) ws.send(JSON.stringify({ status: 'OK', seq_reply: msg.seq, data: { text: 'pong', version: '9.11.0', server_time: Date.now() } }));
        return;
      }
      ws.send(JSON.stringify({ status: 'OK', seq_reply: msg.seq }));
    });
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };
  const error = (res: ServerResponse, status: number, errorId: string, message: string, headers: Record<string, string> = {}) =>
    reply(res, status, { id: errorId, message, detailed_error: '', request_id: id('req'), status_code: status }, headers);

  const route = async (req: IncomingMessage, res: ServerResponse, raw: Buffer, path: string): Promise<void> => {
    const method = req.method ?? 'GET';
    const type = req.headers['content-type'] ?? '';
    const body = type.includes('json') && raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    calls.push({ method, path, body, at: performance.now() });
    if (req.headers.authorization !== `Bearer ${token}`) return error(res, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
    const limit = limits.find((l) => path.includes(l.part) && l.count > 0);
    if (limit) {
      limit.count -= 1;
      return error(res, 429, 'api.context.rate_limit.app_error', 'Too many requests.', { 'retry-after': String(limit.retryAfter), 'x-ratelimit-reset': String(limit.retryAfter) });
    }
    let m: RegExpExecArray | null;
    if (path === '/api/v4/users/me') return reply(res, 200, { id: botUserId, username: 'claw', is_bot: true, roles: 'system_user' });
    if (path === '/api/v4/system/ping') return reply(res, 200, { status: 'OK' });
    if ((m = /^\/api\/v4\/users\/([a-z0-9]+)$/.exec(path))) return reply(res, 200, { id: m[1], username: `user-${m[1]?.slice(-4)}`, nickname: '' });
    if (path === '/api/v4/posts' && method === 'POST') {
      const at = Date.now();
      const post: MattermostPost = { id: id('post'), channel_id: String(body['channel_id']), user_id: botUserId, message: String(body['message'] ?? ''), root_id: String(body['root_id'] ?? ''), file_ids: (body['file_ids'] as string[] | undefined) ?? [], create_at: at, update_at: at };
      if (post.message.length > 16_383) return error(res, 400, 'model.post.is_valid.msg.app_error', 'Invalid message.');
      posts.set(post.id, post);
      return reply(res, 201, post);
    }
    if ((m = /^\/api\/v4\/posts\/([a-z0-9]+)\/patch$/.exec(path)) && method === 'PUT') {
      const post = posts.get(m[1] ?? '');
      if (!post) return error(res, 404, 'app.post.get.app_error', 'Unable to get the post.');
      post.message = String(body['message'] ?? post.message);
      post.update_at = Date.now();
      return reply(res, 200, post);
    }
    if (path === '/api/v4/files' && method === 'POST') {
      const parts = parseMultipart(raw, boundaryOf(type) ?? '');
      const infos = parts
        .filter((p) => p.filename !== null)
        .map((p) => {
          const fileId = id('file');
          files.set(fileId, { name: p.filename ?? 'file', bytes: p.data });
          return { id: fileId, name: p.filename, size: p.data.length, mime_type: p.contentType };
        });
      return reply(res, 201, { file_infos: infos, client_ids: [] });
    }
    if ((m = /^\/api\/v4\/files\/([a-z0-9]+)$/.exec(path)) && method === 'GET') {
      const file = files.get(m[1] ?? '');
      if (!file) return error(res, 404, 'app.file.get.app_error', 'not found');
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.bytes.length }).end(file.bytes);
    }
    if ((m = /^\/api\/v4\/files\/([a-z0-9]+)\/info$/.exec(path))) {
      const file = files.get(m[1] ?? '');
      return file ? reply(res, 200, { id: m[1], name: file.name, size: file.bytes.length }) : error(res, 404, 'app.file.get.app_error', 'not found');
    }
    return error(res, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
  };

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      await route(req, res, raw, new URL(req.url ?? '/', 'http://local').pathname);
    })()
      .catch((err: unknown) => {
        if (!res.headersSent) reply(res, 500, { id: 'x', message: String(err), status_code: 500 });
      })
      .finally(waiters.notify);
  });
  const listener = await listenLocal(server, { wss, path: '/api/v4/websocket', onSocket });

  const api: MattermostServer = {
    url: `http://127.0.0.1:${listener.port}`,
    token,
    botUserId,
    calls,
    actions,
    botPosts: (channelId) => [...posts.values()].filter((p) => p.user_id === botUserId && (channelId === undefined || p.channel_id === channelId)),
    userPost(o) {
      const channelId = o.channel?.id ?? `dm-${o.user}`;
      if (o.channel) channelTypes.set(o.channel.id, { type: o.channel.type, name: o.channel.name });
      const fileIds: string[] = [];
      if (o.file) {
        const fileId = id('file');
        files.set(fileId, { name: o.file.name, bytes: o.file.bytes });
        fileIds.push(fileId);
      }
      const at = Date.now();
      const post: MattermostPost = { id: id('post'), channel_id: channelId, user_id: o.user, message: o.mention ? `@claw ${o.message}` : o.message, root_id: o.rootId ?? '', file_ids: fileIds, create_at: at, update_at: at };
      posts.set(post.id, post);
      posted(post, o.username, o.mention ? [botUserId] : []);
      return post;
    },
    repost(post) {
      posted(post, 'again', []);
    },
    silence(on) {
      silent = on;
    },
    rateLimit(part, retryAfter, count = 1) {
      limits.push({ part, retryAfter, count });
    },
    waitForPost: (pred, timeoutMs = 10_000) => waiters.until(() => api.botPosts().find(pred), timeoutMs, 'a bot post'),
    waitForCall: (pred, timeoutMs = 10_000) => waiters.until(() => calls.find(pred), timeoutMs, 'a call'),
    close: () => listener.close(),
  };
  return api;
}
