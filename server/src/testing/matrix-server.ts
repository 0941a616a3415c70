/**
 * A local Matrix homeserver for tests (never used by product code): the
 * client-server API a bot needs — versions, whoami, filters, `/sync` long
 * polling with `since` and `timeout` (joined rooms with state and timeline,
 * invites), sending events with transaction ids, typing, joining, media
 * upload and download, `M_LIMIT_EXCEEDED` with `retry_after_ms` on request,
 * `M_UNKNOWN_TOKEN` for a bad access token. Tests create rooms and post as
 * users; a silent mode holds `/sync` open without answering.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal } from './listen-local';
import { createLongPolls } from './long-poll';
import { createWaiters } from './waiters';

export interface MatrixEvent {
  type: string;
  event_id: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
}

interface Room {
  id: string;
  name: string | null;
  members: Set<string>;
  invited: Set<string>;
  state: MatrixEvent[];
  timeline: Array<{ pos: number; event: MatrixEvent }>;
  /** When the bot joined (a sync after it carries the room's whole state). */
  joinedPos: number;
}

export interface MatrixCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface MatrixServer {
  /** `matrix.homeserverUrl`. */
  url: string;
  token: string;
  botUserId: string;
  calls: MatrixCall[];
  /** Events the bot sent, by room. */
  sentBy(roomId: string): MatrixEvent[];
  /** The text a bot message shows now (edits applied). */
  shownText(roomId: string, eventId: string): string;
  /** A room with the bot and `members` joined (two members: a direct chat). */
  createRoom(opts: { id: string; members: string[]; name?: string }): void;
  /** An invite of the bot into a new room by `from`. */
  invite(opts: { id: string; from: string }): void;
  /** A user's message; returns the event. */
  userMessage(opts: { room: string; sender: string; body: string; mention?: boolean; replyTo?: string; file?: { name: string; bytes: Buffer; mimetype: string } }): MatrixEvent;
  /** While on, /sync requests are held open and never answered. */
  stall(on: boolean): void;
  rateLimit(pathPart: string, retryAfterMs: number, count?: number): void;
  waitForSent(roomId: string, pred: (e: MatrixEvent) => boolean, timeoutMs?: number): Promise<MatrixEvent>;
  waitForCall(pred: (c: MatrixCall) => boolean, timeoutMs?: number): Promise<MatrixCall>;
  close(): Promise<void>;
}

export async function startMatrixServer(): Promise<MatrixServer> {
  const token = 'syt_matrix_test_token';
  const botUserId = '@claw:local';
  const rooms = new Map<string, Room>();
  const calls: MatrixCall[] = [];
  const media = new Map<string, { bytes: Buffer; type: string }>();
  const limits: Array<{ part: string; retryAfterMs: number; count: number }> = [];
  const polls = createLongPolls();
  const waiters = createWaiters('matrix server');
  let pos = 0;
  let counter = 0;

  const event = (type: string, sender: string, content: Record<string, unknown>, stateKey?: string): MatrixEvent => ({
    type,
    event_id: `$e${++counter}`,
    sender,
    origin_server_ts: Date.now(),
    content,
    ...(stateKey === undefined ? {} : { state_key: stateKey }),
  });
  const wake = () => {
    polls.wake();
    waiters.notify();
  };
  const push = (room: Room, e: MatrixEvent) => {
    room.timeline.push({ pos: ++pos, event: e });
    wake();
  };
  const member = (user: string, membership: string, sender = user) => event('m.room.member', sender, { membership, displayname: user.slice(1).split(':')[0] }, user);

  /** The sync body for what happened after `since` (everything, for an initial sync). */
  const syncBody = (since: number | null) => {
    const join: Record<string, unknown> = {};
    const invite: Record<string, unknown> = {};
    for (const room of rooms.values()) {
      if (room.invited.has(botUserId) && (since === null || room.timeline.some((t) => t.pos > since))) {
        invite[room.id] = { invite_state: { events: [...room.state, member(botUserId, 'invite', [...room.members][0] ?? botUserId)] } };
        continue;
      }
      if (!room.members.has(botUserId)) continue;
      const fresh = room.timeline.filter((t) => since === null || t.pos > since);
      if (since !== null && fresh.length === 0) continue;
      join[room.id] = {
        state: { events: since === null || since < room.joinedPos ? room.state : [] },
        timeline: { events: fresh.slice(-20).map((t) => t.event), limited: false, prev_batch: `p${pos}` },
        summary: { 'm.joined_member_count': room.members.size, 'm.invited_member_count': 0 },
        ephemeral: { events: [] },
        account_data: { events: [] },
        unread_notifications: {},
      };
    }
    return { next_batch: `s${pos}`, rooms: { join, invite, leave: {} }, presence: { events: [] }, account_data: { events: [] }, to_device: { events: [] } };
  };

  const hasNews = (since: number) => [...rooms.values()].some((r) => r.timeline.some((t) => t.pos > since));

  const sync = async (query: URLSearchParams, res: ServerResponse) => {
    const sinceText = query.get('since');
    const since = sinceText === null ? null : Number(sinceText.slice(1));
    const timeout = Number(query.get('timeout') ?? '0');
    if (!polls.stalled && (since === null || hasNews(since) || timeout <= 0)) return syncBody(since);
    return (await polls.hold(res, timeout, () => since !== null && hasNews(since))) ? syncBody(since) : null;
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };

  const route = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<{ status: number; body: unknown } | null> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? 'GET';
    if (path === '/_matrix/client/versions') return { status: 200, body: { versions: ['v1.1', 'v1.5', 'v1.9', 'v1.11'], unstable_features: {} } };
    const auth = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('access_token');
    if (auth !== token) return { status: 401, body: { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.', soft_logout: false } };
    const limit = limits.find((l) => path.includes(l.part) && l.count > 0);
    if (limit) {
      limit.count -= 1;
      return { status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'Too Many Requests', retry_after_ms: limit.retryAfterMs } };
    }
    const body = raw.length > 0 && (req.headers['content-type'] ?? '').includes('json') ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    let m: RegExpExecArray | null;
    if (path === '/_matrix/client/v3/account/whoami') return { status: 200, body: { user_id: botUserId, device_id: 'BOTDEVICE' } };
    if (path === '/_matrix/client/v3/sync') {
      const answer = await sync(url.searchParams, res);
      return answer === null ? null : { status: 200, body: answer };
    }
    if ((m = /^\/_matrix\/client\/v3\/user\/[^/]+\/filter$/.exec(path)) && method === 'POST') return { status: 200, body: { filter_id: '1' } };
    if (/^\/_matrix\/client\/v3\/user\/[^/]+\/filter\/[^/]+$/.test(path)) return { status: 200, body: {} };
    if (path === '/_matrix/client/v3/pushrules/' || path === '/_matrix/client/v3/pushrules') return { status: 200, body: { global: {} } };
    if (path === '/_matrix/client/v3/capabilities') return { status: 200, body: { capabilities: {} } };
    if ((m = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/.exec(path)) && method === 'PUT') {
      const room = rooms.get(m[1] ?? '');
      if (!room || !room.members.has(botUserId)) return { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'not in room' } };
      const e = event(m[2] ?? 'm.room.message', botUserId, body);
      push(room, e);
      return { status: 200, body: { event_id: e.event_id } };
    }
    if (/^\/_matrix\/client\/v3\/rooms\/[^/]+\/typing\/[^/]+$/.test(path)) return { status: 200, body: {} };
    if ((m = /^\/_matrix\/client\/v3\/(?:join|rooms)\/([^/]+)(?:\/join)?$/.exec(path)) && method === 'POST') {
      const room = rooms.get(m[1] ?? '');
      if (!room) return { status: 404, body: { errcode: 'M_NOT_FOUND', error: 'no room' } };
      room.invited.delete(botUserId);
      room.members.add(botUserId);
      room.joinedPos = pos + 1;
      room.state.push(member(botUserId, 'join'));
      push(room, member(botUserId, 'join'));
      return { status: 200, body: { room_id: room.id } };
    }
    if (path === '/_matrix/media/v3/upload' && method === 'POST') {
      const id = `m${++counter}`;
      media.set(id, { bytes: raw, type: req.headers['content-type'] ?? 'application/octet-stream' });
      return { status: 200, body: { content_uri: `mxc://local/${id}` } };
    }
    if ((m = /^\/_matrix\/(?:client\/v1|media\/v3)\/media\/download\/local\/([^/]+)|^\/_matrix\/media\/v3\/download\/local\/([^/]+)$/.exec(path))) {
      const file = media.get(m[1] ?? m[2] ?? '');
      if (!file) return { status: 404, body: { errcode: 'M_NOT_FOUND', error: 'no media' } };
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.bytes.length }).end(file.bytes);
      return null;
    }
    return { status: 404, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://local');
      const json = raw.length > 0 && (req.headers['content-type'] ?? '').includes('json');
      calls.push({ method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), body: json ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {}, at: performance.now() });
      const answer = await route(req, res, raw).catch((err: unknown) => ({ status: 500, body: { errcode: 'M_UNKNOWN', error: String(err) } }));
      if (answer === null || res.headersSent || res.destroyed) return;
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    })()
      .catch(() => undefined)
      .finally(waiters.notify);
  });
  const listener = await listenLocal(server);

  const api: MatrixServer = {
    url: `http://127.0.0.1:${listener.port}`,
    token,
    botUserId,
    calls,
    sentBy: (roomId) => (rooms.get(roomId)?.timeline ?? []).map((t) => t.event).filter((e) => e.sender === botUserId && e.type === 'm.room.message'),
    shownText(roomId, eventId) {
      const events = api.sentBy(roomId);
      let text = String(events.find((e) => e.event_id === eventId)?.content['body'] ?? '');
      for (const e of events) {
        const rel = e.content['m.relates_to'] as { rel_type?: string; event_id?: string } | undefined;
        if (rel?.rel_type === 'm.replace' && rel.event_id === eventId) text = String((e.content['m.new_content'] as { body?: string }).body ?? '');
      }
      return text;
    },
    createRoom(o) {
      const all = [botUserId, ...o.members];
      const room: Room = { id: o.id, name: o.name ?? null, members: new Set(all), invited: new Set(), state: [], timeline: [], joinedPos: 0 };
      room.state.push(event('m.room.create', o.members[0] ?? botUserId, { creator: o.members[0] ?? botUserId, room_version: '10' }, ''));
      for (const user of all) room.state.push(member(user, 'join'));
      if (o.name) room.state.push(event('m.room.name', o.members[0] ?? botUserId, { name: o.name }, ''));
      rooms.set(o.id, room);
      wake();
    },
    invite(o) {
      const room: Room = { id: o.id, name: null, members: new Set([o.from]), invited: new Set([botUserId]), state: [], timeline: [], joinedPos: 0 };
      room.state.push(event('m.room.create', o.from, { creator: o.from, room_version: '10' }, ''));
      room.state.push(member(o.from, 'join'));
      rooms.set(o.id, room);
      push(room, member(botUserId, 'invite', o.from));
    },
    userMessage(o) {
      const room = rooms.get(o.room);
      if (!room) throw new Error(`no room ${o.room}`);
      const content: Record<string, unknown> = o.file
        ? (() => {
            const id = `m${++counter}`;
            media.set(id, { bytes: o.file.bytes, type: o.file.mimetype });
            return { msgtype: 'm.file', body: o.body || o.file.name, filename: o.file.name, url: `mxc://local/${id}`, info: { mimetype: o.file.mimetype, size: o.file.bytes.length } };
          })()
        : { msgtype: 'm.text', body: o.mention ? `claw: ${o.body}` : o.body };
      if (o.mention) content['m.mentions'] = { user_ids: [botUserId] };
      if (o.replyTo) content['m.relates_to'] = { 'm.in_reply_to': { event_id: o.replyTo } };
      const e = event('m.room.message', o.sender, content);
      push(room, e);
      return e;
    },
    stall(on) {
      polls.stall(on);
    },
    rateLimit(part, retryAfterMs, count = 1) {
      limits.push({ part, retryAfterMs, count });
    },
    waitForSent: (roomId, pred, timeoutMs = 10_000) => waiters.until(() => api.sentBy(roomId).find(pred), timeoutMs, `a message in ${roomId}`),
    waitForCall: (pred, timeoutMs = 10_000) => waiters.until(() => calls.find(pred), timeoutMs, 'a call'),
    async close() {
      polls.close();
      await listener.close();
    },
  };
  return api;
}
