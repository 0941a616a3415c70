/**
 * A local Telegram Bot API for tests (never used by product code): what the
 * real grammy client needs, on the documented wire — `POST
 * /bot<token>/<method>` with JSON or multipart bodies, answers
 * `{ok: true, result}` or `{ok: false, error_code, description,
 * parameters?}`, `getUpdates` long polling with `offset` (confirming every
 * update below it) and `timeout`, file downloads under
 * `/file/bot<token>/<file_path>`, webhooks with the secret-token header, and
 * 429 with `retry_after` on request. Tests push updates as users would send
 * them and read what the bot sent.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { boundaryOf, parseMultipart } from './multipart';
import { createLongPolls } from './long-poll';
import { createWaiters } from './waiters';

export interface TgUser {
  id: number;
  first_name: string;
  username?: string;
  is_bot?: boolean;
}

export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  first_name?: string;
}

export interface SentMessage {
  chatId: number;
  messageId: number;
  text: string;
  /** Every text it showed, in order (the first is what was sent). */
  versions: string[];
  replyTo: number | null;
  replyMarkup: unknown;
  /** The file sent with it (any of sendDocument, sendPhoto, sendVideo, sendVoice, sendAudio), and that method. */
  document: { name: string; bytes: Buffer } | null;
  method: string;
}

export interface TgCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
}

export interface TelegramServerOptions {
  token?: string;
  bot?: TgUser;
}

export interface TelegramBotApiServer {
  /** The API root to configure (`telegram.apiRoot`). */
  url: string;
  token: string;
  bot: TgUser;
  calls: TgCall[];
  /** Messages the bot sent, in order. */
  sent: SentMessage[];
  /** Queues an update (update_id assigned); returns it. */
  pushUpdate(update: Record<string, unknown>): Record<string, unknown>;
  /** A user's text message; returns the update. */
  userMessage(opts: { from: TgUser; chat?: TgChat; text?: string; caption?: string; entities?: unknown[]; replyToBot?: number; photo?: string; document?: { fileId: string; name: string; mimeType: string } }): Record<string, unknown>;
  /** A button press on a message the bot sent. */
  pressButton(opts: { from: TgUser; chat: TgChat; messageId: number; data: string }): Record<string, unknown>;
  /** Makes a file downloadable; returns its file_id. */
  addFile(bytes: Buffer, path: string): string;
  /** While true, getUpdates requests are held open and never answered (a silent server). */
  stall(on: boolean): void;
  /** The next `count` calls of `method` get 429 with retry_after. */
  rateLimit(method: string, retryAfterSec: number, count?: number): void;
  /** Resolves with the first call of `method` matching `pred` (also one already made). */
  waitFor(method: string, pred?: (call: TgCall) => boolean, timeoutMs?: number): Promise<TgCall>;
  /** Resolves when a sent message matches. */
  waitForSent(pred: (m: SentMessage) => boolean, timeoutMs?: number): Promise<SentMessage>;
  /** Webhook mode: what setWebhook stored. */
  webhook(): { url: string; secret: string | null } | null;
  /**
   * Delivers an update to the webhook as Telegram would; returns the HTTP
   * status. `connectTo` (an http://host:port) stands for the tunnel or proxy
   * in front of the gateway: the request goes there, its Host header still
   * the webhook URL's public name.
   */
  deliverWebhook(update: Record<string, unknown>, secret?: string | null, connectTo?: string): Promise<number>;
  /** Number of getUpdates requests waiting right now. */
  readonly pollers: number;
  /** performance.now() when each update (by update_id) was first handed to the bot. */
  deliveredAt: Map<number, number>;
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown };

const ok = (result: unknown): Reply => ({ status: 200, body: { ok: true, result } });
const fail = (status: number, description: string, parameters?: Record<string, unknown>): Reply => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});

async function readBody(req: IncomingMessage): Promise<{ json: Record<string, unknown>; files: Map<string, { name: string; bytes: Buffer }> }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  const files = new Map<string, { name: string; bytes: Buffer }>();
  if (type.startsWith('multipart/form-data')) {
    const json: Record<string, unknown> = {};
    const parts = parseMultipart(raw, boundaryOf(type) ?? '');
    const byName = new Map(parts.map((p) => [p.name, p]));
    for (const part of parts) {
      if (part.filename !== null) continue;
      const value = part.data.toString('utf8');
      // A file sent as `attach://<part name>` (how grammy uploads).
      const attached = value.startsWith('attach://') ? byName.get(value.slice('attach://'.length)) : undefined;
      if (attached) files.set(part.name, { name: attached.filename ?? part.name, bytes: attached.data });
      else json[part.name] = value;
    }
    return { json, files };
  }
  if (raw.length === 0) return { json: {}, files };
  if (type.includes('application/x-www-form-urlencoded')) return { json: Object.fromEntries(new URLSearchParams(raw.toString('utf8'))), files };
  return { json: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, files };
}

export async function startTelegramBotApiServer(opts: TelegramServerOptions = {}): Promise<TelegramBotApiServer> {
  const token = opts.token ?? '123456:TEST-telegram-token';
  const bot: TgUser = opts.bot ?? { id: 900_000_001, first_name: 'Claw', username: 'autoclaw_test_bot', is_bot: true };
  const updates: Array<Record<string, unknown>> = [];
  const calls: TgCall[] = [];
  const sent: SentMessage[] = [];
  const files = new Map<string, { bytes: Buffer; path: string }>();
  const limits = new Map<string, { retryAfter: number; count: number }>();
  const waiters = createWaiters('telegram server');
  const polls = createLongPolls();
  let nextUpdateId = 1;
  let nextMessageId = 1000;
  let nextFileId = 1;
  let hook: { url: string; secret: string | null } | null = null;
  const deliveredAt = new Map<number, number>();
  const delivered = (reply: Reply): Reply => {
    const result = (reply.body as { result?: Array<{ update_id: number }> }).result ?? [];
    const at = performance.now();
    for (const update of result) if (!deliveredAt.has(update.update_id)) deliveredAt.set(update.update_id, at);
    return reply;
  };
  const sockets = new Set<Socket>();

  const notify = waiters.notify;

  const messageOf = (chatId: number, text: string, messageId: number) => ({
    message_id: messageId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: chatId, type: chatId < 0 ? 'group' : 'private' },
    from: bot,
    text,
  });

  const getUpdates = async (body: Record<string, unknown>, res: ServerResponse): Promise<Reply | null> => {
    const offset = Number(body['offset'] ?? 0);
    const timeout = Number(body['timeout'] ?? 0);
    // Confirmed: every update below the offset is forgotten.
    if (offset > 0) while (updates.length > 0 && Number(updates[0]?.['update_id']) < offset) updates.shift();
    const pending = () => updates.filter((u) => Number(u['update_id']) >= offset).slice(0, Number(body['limit'] ?? 100));
    if (!polls.stalled && (pending().length > 0 || timeout <= 0)) return delivered(ok(pending()));
    return (await polls.hold(res, timeout * 1000, () => pending().length > 0)) ? delivered(ok(pending())) : null;
  };

  const handle = async (method: string, body: Record<string, unknown>, upload: Map<string, { name: string; bytes: Buffer }>, res: ServerResponse): Promise<Reply | null> => {
    const limit = limits.get(method);
    if (limit && limit.count > 0) {
      limit.count -= 1;
      return fail(429, `Too Many Requests: retry after ${limit.retryAfter}`, { retry_after: limit.retryAfter });
    }
    switch (method) {
      case 'getMe':
        return ok(bot);
      case 'getUpdates':
        if (hook) return fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        return getUpdates(body, res);
      case 'deleteWebhook':
        hook = null;
        return ok(true);
      case 'setWebhook':
        hook = { url: String(body['url']), secret: typeof body['secret_token'] === 'string' ? body['secret_token'] : null };
        return ok(true);
      case 'getWebhookInfo':
        return ok({ url: hook?.url ?? '', has_custom_certificate: false, pending_update_count: 0 });
      case 'sendChatAction':
        return ok(true);
      case 'answerCallbackQuery':
        return ok(true);
      case 'sendMessage':
      case 'sendDocument':
      case 'sendPhoto':
      case 'sendVideo':
      case 'sendVoice':
      case 'sendAudio': {
        const chatId = Number(body['chat_id']);
        const text = String(body['text'] ?? body['caption'] ?? '');
        if (method === 'sendMessage' && text.length === 0) return fail(400, 'Bad Request: message text is empty');
        if (text.length > 4096) return fail(400, 'Bad Request: message is too long');
        const id = ++nextMessageId;
        const replyParams = body['reply_parameters'] as { message_id?: number } | string | undefined;
        const parsedReply = typeof replyParams === 'string' ? (JSON.parse(replyParams) as { message_id?: number }) : replyParams;
        const file = upload.get('document') ?? upload.get('photo') ?? upload.get('video') ?? upload.get('voice') ?? upload.get('audio') ?? null;
        // Telegram reads a photo to make its sizes: what is not a JPEG or PNG picture it refuses.
        const picture = file && (file.bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) || file.bytes.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1')));
        if (method === 'sendPhoto' && !picture) return fail(400, 'Bad Request: IMAGE_PROCESS_FAILED');
        const markup = body['reply_markup'];
        sent.push({
          chatId,
          messageId: id,
          text,
          versions: [text],
          replyTo: parsedReply?.message_id ?? null,
          replyMarkup: typeof markup === 'string' ? JSON.parse(markup) : (markup ?? null),
          document: file,
          method,
        });
        return ok(messageOf(chatId, text, id));
      }
      case 'editMessageText': {
        const message = sent.find((m) => m.chatId === Number(body['chat_id']) && m.messageId === Number(body['message_id']));
        if (!message) return fail(400, 'Bad Request: message to edit not found');
        const text = String(body['text'] ?? '');
        if (text === message.text) {
          return fail(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
        }
        if (text.length > 4096) return fail(400, 'Bad Request: MESSAGE_TOO_LONG');
        message.text = text;
        message.versions.push(text);
        if ('reply_markup' in body) message.replyMarkup = body['reply_markup'] ?? null;
        return ok(messageOf(message.chatId, text, message.messageId));
      }
      case 'getFile': {
        const id = String(body['file_id']);
        const file = files.get(id);
        if (!file) return fail(400, 'Bad Request: invalid file_id');
        return ok({ file_id: id, file_unique_id: `u${id}`, file_size: file.bytes.length, file_path: file.path });
      }
      default:
        return fail(404, 'Not Found');
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
      if (fileMatch) {
        const found = [...files.values()].find((f) => f.path === decodeURIComponent(fileMatch[2] ?? ''));
        if (fileMatch[1] !== token || !found) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': found.bytes.length }).end(found.bytes);
        return;
      }
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
      let reply: Reply | null;
      let method = '';
      if (!match) reply = fail(404, 'Not Found');
      else if (match[1] !== token) reply = fail(401, 'Unauthorized');
      else {
        method = match[2] ?? '';
        const { json, files: upload } = await readBody(req);
        const body = { ...Object.fromEntries(url.searchParams), ...json };
        calls.push({ method, body, at: performance.now() });
        notify();
        reply = await handle(method, body, upload, res);
      }
      if (reply === null || res.destroyed) return;
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      if (method !== 'getUpdates') notify();
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;


  const api: TelegramBotApiServer = {
    url: `http://127.0.0.1:${port}`,
    token,
    bot,
    calls,
    sent,
    get pollers() {
      return polls.held;
    },
    deliveredAt,
    pushUpdate(update) {
      const full = { update_id: nextUpdateId++, ...update };
      updates.push(full);
      polls.wake();
      return full;
    },
    userMessage(o) {
      const chat: TgChat = o.chat ?? { id: o.from.id, type: 'private', first_name: o.from.first_name };
      const message: Record<string, unknown> = { message_id: ++nextMessageId, date: Math.floor(Date.now() / 1000), chat, from: o.from };
      if (o.text !== undefined) message['text'] = o.text;
      if (o.caption !== undefined) message['caption'] = o.caption;
      if (o.entities) message['entities'] = o.entities;
      if (o.replyToBot !== undefined) message['reply_to_message'] = messageOf(chat.id, 'earlier', o.replyToBot);
      if (o.photo) message['photo'] = [{ file_id: o.photo, file_unique_id: `u${o.photo}`, width: 90, height: 90, file_size: files.get(o.photo)?.bytes.length }];
      if (o.document) {
        message['document'] = { file_id: o.document.fileId, file_unique_id: `u${o.document.fileId}`, file_name: o.document.name, mime_type: o.document.mimeType, file_size: files.get(o.document.fileId)?.bytes.length };
      }
      return api.pushUpdate({ message });
    },
    pressButton(o) {
      const message = sent.find((m) => m.messageId === o.messageId);
      return api.pushUpdate({
        callback_query: { id: `cb${nextUpdateId}`, from: o.from, chat_instance: 'ci', data: o.data, message: messageOf(o.chat.id, message?.text ?? '', o.messageId) },
      });
    },
    addFile(bytes, path) {
      const id = `file${nextFileId++}`;
      files.set(id, { bytes, path });
      return id;
    },
    stall(on) {
      polls.stall(on);
    },
    rateLimit(method, retryAfterSec, count = 1) {
      limits.set(method, { retryAfter: retryAfterSec, count });
    },
    waitFor(method, pred = () => true, timeoutMs = 10_000) {
      return waiters.until(() => calls.find((c) => c.method === method && pred(c)), timeoutMs, `a ${method} call`);
    },
    waitForSent(pred, timeoutMs = 10_000) {
      return waiters.until(() => sent.find(pred), timeoutMs, 'a sent message');
    },
    webhook: () => hook,
    async deliverWebhook(update, secret, connectTo) {
      if (!hook) throw new Error('no webhook is set');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const token = secret === undefined ? hook.secret : secret;
      if (token !== null) headers['x-telegram-bot-api-secret-token'] = token;
      const body = JSON.stringify({ update_id: nextUpdateId++, ...update });
      const target = new URL(hook.url);
      const via = new URL(connectTo ?? hook.url);
      return new Promise<number>((resolve, reject) => {
        const req = request(
          { host: via.hostname, port: via.port, method: 'POST', path: target.pathname + target.search, headers: { ...headers, host: target.host } },
          (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    },
    async close() {
      polls.close();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
  return api;
}
