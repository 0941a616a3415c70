/**
 * A local BlueBubbles server for tests (never used by product code): the REST
 * API under /api/v1 with the server password as a query parameter
 * (`password`, or its aliases `guid`/`token`), the `{status, message, data}`
 * envelope and `{status, message, error}` on failure — ping, server info,
 * webhooks (list/create/delete), message query, text and attachment sends,
 * attachment downloads — and webhook POSTs of `{type: 'new-message', data}`
 * to every registered URL, as the BlueBubbles server makes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from './listen-local';
import { createRawServer } from './raw-server';
import { boundaryOf, parseMultipart } from './multipart';
import { createWaiters } from './waiters';

export interface BlueBubblesMessage {
  guid: string;
  text: string;
  isFromMe: boolean;
  dateCreated: number;
  handle: { address: string } | null;
  chats: Array<{ guid: string; chatIdentifier: string; displayName: string; style: number }>;
  attachments: Array<{ guid: string; transferName: string; mimeType: string; totalBytes: number }>;
}

export interface BlueBubblesServer {
  /** `imessage.url`. */
  url: string;
  password: string;
  webhooks: Array<{ id: number; url: string; events: string[] }>;
  /** Messages the bot sent (isFromMe), oldest first. */
  sent(chatGuid?: string): BlueBubblesMessage[];
  /** Files the bot sent: name and bytes. */
  files: Array<{ chatGuid: string; name: string; bytes: Buffer }>;
  /**
   * A message from `address`, stored; webhooks get it unless `deliver` is false
   * (the gateway was away). Resolves with the message and each webhook's HTTP status.
   */
  userMessage(o: { address: string; text: string; group?: { guid: string; name: string }; file?: { name: string; mimeType: string; bytes: Buffer }; deliver?: boolean }): Promise<{ message: BlueBubblesMessage; statuses: number[] }>;
  /** Posts a message's webhook once more (a redelivery). */
  redeliver(message: BlueBubblesMessage): Promise<number[]>;
  /** While on, every request but the webhooks fails with 503 (the Mac is asleep). */
  unavailable(on: boolean): void;
  /** The next `count` sends fail with `status`. */
  failSends(count: number, status: number): void;
  waitForSent(pred: (m: BlueBubblesMessage) => boolean, timeoutMs?: number): Promise<BlueBubblesMessage>;
  close(): Promise<void>;
}

export async function startBlueBubblesServer(opts: { password?: string } = {}): Promise<BlueBubblesServer> {
  const password = opts.password ?? 'bb-test-password';
  const messages: BlueBubblesMessage[] = [];
  const files: BlueBubblesServer['files'] = [];
  const attachments = new Map<string, Buffer>();
  const webhooks: BlueBubblesServer['webhooks'] = [];
  const waiters = createWaiters('bluebubbles server');
  let counter = 0;
  let clock = Date.now();
  let down = false;
  let failing = { count: 0, status: 500 };
  const guid = (prefix: string) => `${prefix}-${String(++counter).padStart(6, '0')}`;
  const now = () => (clock = Math.max(clock + 1, Date.now()));

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const ok = (res: ServerResponse, data: unknown, message = 'Success') => reply(res, 200, { status: 200, message, data });
  const fail = (res: ServerResponse, status: number, type: string, message: string) => reply(res, status, { status, message, error: { type, message } });

  const post = async (message: BlueBubblesMessage, type = 'new-message'): Promise<number[]> =>
    Promise.all(
      webhooks
        .filter((w) => w.events.includes(type) || w.events.includes('*'))
        .map(async (w) => {
          try {
            const res = await fetch(w.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, data: message }) });
            await res.arrayBuffer();
            return res.status;
          } catch {
            return 0;
          }
        }),
    );

  const route = (req: IncomingMessage, res: ServerResponse, raw: Buffer, url: URL): void => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const given = url.searchParams.get('password') ?? url.searchParams.get('guid') ?? url.searchParams.get('token');
    if (given !== password) return fail(res, 401, 'Unauthorized', 'You are not authorized to access this resource');
    if (down) return fail(res, 503, 'Server Error', 'iMessage is not available');
    const type = req.headers['content-type'] ?? '';
    const body = type.includes('json') && raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    let m: RegExpExecArray | null;
    if (path === '/api/v1/ping') return ok(res, 'pong', 'Ping received!');
    if (path === '/api/v1/server/info') return ok(res, { os_version: '14.5', server_version: '1.9.9', private_api: false, detected_icloud: 'mac@icloud.example' });
    if (path === '/api/v1/webhook' && method === 'GET') return ok(res, webhooks);
    if (path === '/api/v1/webhook' && method === 'POST') {
      const hook = { id: ++counter, url: String(body['url'] ?? ''), events: (body['events'] as string[] | undefined) ?? ['*'] };
      if (!hook.url.startsWith('http')) return fail(res, 400, 'Validation Error', 'A URL is required');
      webhooks.push(hook);
      return ok(res, hook, 'Successfully created webhook!');
    }
    if ((m = /^\/api\/v1\/webhook\/(\d+)$/.exec(path)) && method === 'DELETE') {
      const at = webhooks.findIndex((w) => w.id === Number(m![1]));
      if (at < 0) return fail(res, 404, 'Not Found', 'Webhook does not exist');
      webhooks.splice(at, 1);
      return ok(res, null, 'Successfully deleted webhook!');
    }
    if (path === '/api/v1/message/query' && method === 'POST') {
      const after = Number(body['after'] ?? 0);
      const limit = Number(body['limit'] ?? 100);
      const found = messages.filter((x) => x.dateCreated > after).sort((a, b) => a.dateCreated - b.dateCreated).slice(0, limit);
      return reply(res, 200, { status: 200, message: 'Success', data: found, metadata: { count: found.length, total: found.length, offset: 0, limit } });
    }
    const sendFailure = () => {
      if (failing.count <= 0) return false;
      failing.count -= 1;
      fail(res, failing.status, 'Server Error', 'Failed to send message!');
      return true;
    };
    if (path === '/api/v1/message/text' && method === 'POST') {
      if (sendFailure()) return;
      const chatGuid = String(body['chatGuid'] ?? '');
      if (!chatGuid || typeof body['tempGuid'] !== 'string' || typeof body['message'] !== 'string') return fail(res, 400, 'Validation Error', 'chatGuid, tempGuid and message are required');
      const sent: BlueBubblesMessage = { guid: guid('sent'), text: body['message'], isFromMe: true, dateCreated: now(), handle: null, chats: [{ guid: chatGuid, chatIdentifier: chatGuid.split(';').pop() ?? '', displayName: '', style: chatGuid.includes(';+;') ? 43 : 45 }], attachments: [] };
      messages.push(sent);
      return ok(res, sent, 'Message sent!');
    }
    if (path === '/api/v1/message/attachment' && method === 'POST') {
      if (sendFailure()) return;
      const parts = parseMultipart(raw, boundaryOf(type) ?? '');
      const field = (name: string) => parts.find((p) => p.name === name && p.filename === null)?.data.toString('utf8') ?? '';
      const file = parts.find((p) => p.name === 'attachment' && p.filename !== null);
      const chatGuid = field('chatGuid');
      if (!file || !chatGuid || !field('tempGuid')) return fail(res, 400, 'Validation Error', 'attachment, chatGuid and tempGuid are required');
      const name = field('name') || file.filename || 'file';
      files.push({ chatGuid, name, bytes: file.data });
      const sent: BlueBubblesMessage = { guid: guid('sent'), text: '', isFromMe: true, dateCreated: now(), handle: null, chats: [{ guid: chatGuid, chatIdentifier: '', displayName: '', style: 45 }], attachments: [{ guid: guid('att'), transferName: name, mimeType: file.contentType ?? 'application/octet-stream', totalBytes: file.data.length }] };
      messages.push(sent);
      return ok(res, sent, 'Attachment sent!');
    }
    if ((m = /^\/api\/v1\/attachment\/([^/]+)\/download$/.exec(path))) {
      const bytes = attachments.get(decodeURIComponent(m[1] ?? ''));
      if (!bytes) return fail(res, 404, 'Not Found', 'Attachment does not exist');
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
    }
    return fail(res, 404, 'Not Found', 'Route not found');
  };

  const server = createRawServer({ route, fail: (res, err) => fail(res, 500, 'Server Error', String(err)), settled: waiters.notify });
  const listener = await listenLocal(server);

  const api: BlueBubblesServer = {
    url: `http://127.0.0.1:${listener.port}`,
    password,
    webhooks,
    files,
    sent: (chatGuid) => messages.filter((m) => m.isFromMe && (chatGuid === undefined || m.chats[0]?.guid === chatGuid)),
    async userMessage(o) {
      const chat = o.group
        ? { guid: o.group.guid, chatIdentifier: o.group.guid.split(';').pop() ?? '', displayName: o.group.name, style: 43 }
        : { guid: `iMessage;-;${o.address}`, chatIdentifier: o.address, displayName: '', style: 45 };
      const files = [];
      if (o.file) {
        const id = guid('att');
        attachments.set(id, o.file.bytes);
        files.push({ guid: id, transferName: o.file.name, mimeType: o.file.mimeType, totalBytes: o.file.bytes.length });
      }
      const message: BlueBubblesMessage = { guid: guid('msg'), text: o.text, isFromMe: false, dateCreated: now(), handle: { address: o.address }, chats: [chat], attachments: files };
      messages.push(message);
      const statuses = o.deliver === false ? [] : await post(message);
      return { message, statuses };
    },
    redeliver: (message) => post(message),
    unavailable(on) {
      down = on;
    },
    failSends(count, status) {
      failing = { count, status };
    },
    waitForSent: (pred, timeoutMs = 10_000) => waiters.until(() => api.sent().find(pred), timeoutMs, 'a sent message'),
    close: () => listener.close(),
  };
  return api;
}
