/**
 * A local signal-cli daemon for tests (never used by product code), as
 * `signal-cli daemon --http` serves it in multi-account mode:
 * `POST /api/v1/rpc` (JSON-RPC 2.0; Content-Type application/json or 415;
 * `account` in params; send, sendTyping, listIdentities, listAccounts,
 * getAttachment, startLink, finishLink), `GET /api/v1/events?account=`
 * (Server-Sent Events `id:`/`event:receive`/`data:{envelope, account}`,
 * `:` keep-alives, replay after `Last-Event-ID`, the last 1000 kept) and
 * `GET /api/v1/check`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal } from './listen-local';
import { createWaiters } from './waiters';

export interface SignalUser {
  number: string;
  uuid: string;
  name: string;
}

export interface SignalEnvelope {
  source: string;
  sourceNumber: string;
  sourceUuid: string;
  sourceName: string;
  sourceDevice: number;
  timestamp: number;
  dataMessage: {
    timestamp: number;
    message: string | null;
    expiresInSeconds: number;
    viewOnce: boolean;
    mentions?: Array<{ name: string; number: string | null; uuid: string; start: number; length: number }>;
    attachments?: Array<{ contentType: string; filename: string; id: string; size: number }>;
    groupInfo?: { groupId: string; groupName?: string; type: string };
    quote?: { id: number; author: string; authorNumber: string; authorUuid: string; text: string };
  };
}

export interface SignalSent {
  account: string;
  recipient: string[];
  groupId: string | null;
  message: string;
  attachments: Array<{ filename: string; contentType: string; bytes: Buffer }>;
  quoteTimestamp: number | null;
  timestamp: number;
}

export interface SignalCliServer {
  url: string;
  /** The account linked in this daemon (null until a link finished, when started unlinked). */
  readonly account: string | null;
  readonly accountUuid: string;
  /** Every JSON-RPC call, in order. */
  calls: Array<{ method: string; params: Record<string, unknown> }>;
  sent: SignalSent[];
  /** A user's message arrives: one `receive` event (returned for a redelivery). */
  incoming(from: SignalUser, text: string, opts?: { group?: { id: string; name: string }; mentionMe?: boolean; attachment?: { filename: string; contentType: string; bytes: Buffer } }): SignalEnvelope;
  /** The same envelope once more (a redelivery after a resend). */
  redeliver(envelope: SignalEnvelope): void;
  /** Ends every open event stream (the daemon keeps running). */
  cut(): void;
  /** The `Last-Event-ID` of each event stream opened (null: none sent). */
  resumedFrom: Array<string | null>;
  /** Open event streams. */
  readonly streams: number;
  /** The pending `finishLink` completes: the phone scanned the QR code. */
  scanLink(): void;
  waitForSent(pred: (s: SignalSent) => boolean, timeoutMs?: number): Promise<SignalSent>;
  close(): Promise<void>;
}

const KEPT_EVENTS = 1000;

export async function startSignalCliServer(opts: { linked?: boolean; account?: string; keepAliveMs?: number } = {}): Promise<SignalCliServer> {
  const phone = opts.account ?? '+15550000001';
  let account: string | null = opts.linked === false ? null : phone;
  const accountUuid = '0b0b0b0b-0000-4000-8000-000000000001';
  const calls: SignalCliServer['calls'] = [];
  const sent: SignalSent[] = [];
  const events: Array<{ id: number; data: string }> = [];
  const streams = new Set<ServerResponse>();
  const attachments = new Map<string, Buffer>();
  const resumedFrom: Array<string | null> = [];
  const waiters = createWaiters('signal-cli');
  let nextEventId = 1;
  let clock = 1_700_000_000_000;
  let pendingLink: { uri: string; finish: (() => void) | null } | null = null;

  const writeEvent = (res: ServerResponse, event: { id: number; data: string }) => res.write(`id:${event.id}\nevent:receive\ndata:${event.data}\n\n`);
  const publish = (envelope: SignalEnvelope) => {
    const event = { id: nextEventId++, data: JSON.stringify({ envelope, account }) };
    events.push(event);
    if (events.length > KEPT_EVENTS) events.shift();
    for (const res of streams) writeEvent(res, event);
  };

  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(':\n');
  }, opts.keepAliveMs ?? 200);

  const rpcError = (id: unknown, code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message, data: null }, id });

  const call = async (method: string, params: Record<string, unknown>, id: unknown): Promise<unknown> => {
    calls.push({ method, params });
    const accountParam = params['account'];
    const perAccount = !['startLink', 'finishLink', 'listAccounts', 'version'].includes(method);
    if (perAccount && (typeof accountParam !== 'string' || accountParam !== account)) return rpcError(id, -32602, 'Specified account does not exist');
    const result = (value: unknown) => ({ jsonrpc: '2.0', result: value, id });
    switch (method) {
      case 'listAccounts':
        return result(account ? [{ number: account }] : []);
      case 'listIdentities':
        return result([{ number: '+15550000002', uuid: '0a0a0a0a-0000-4000-8000-000000000002', fingerprint: '05 ab', safetyNumber: '12345', trustLevel: 'TRUSTED_UNVERIFIED', addedTimestamp: 0 }]);
      case 'send': {
        const recipient = params['recipient'] === undefined ? [] : ([] as string[]).concat(params['recipient'] as string | string[]);
        const groupId = typeof params['groupId'] === 'string' ? params['groupId'] : null;
        if (recipient.length === 0 && groupId === null) return rpcError(id, -32602, 'No recipients given');
        const files = params['attachments'] === undefined ? [] : ([] as string[]).concat(params['attachments'] as string | string[]);
        const decoded = files.map((uri) => {
          const m = /^data:([^;,]+)(?:;filename=([^;,]+))?;base64,(.*)$/s.exec(uri);
          if (!m) throw new Error(`not a data URI: ${uri.slice(0, 40)}`);
          return { contentType: m[1]!, filename: decodeURIComponent(m[2] ?? 'file'), bytes: Buffer.from(m[3]!, 'base64') };
        });
        const timestamp = ++clock;
        sent.push({
          account: account!,
          recipient,
          groupId,
          message: typeof params['message'] === 'string' ? params['message'] : '',
          attachments: decoded,
          quoteTimestamp: typeof params['quoteTimestamp'] === 'number' ? params['quoteTimestamp'] : null,
          timestamp,
        });
        waiters.notify();
        return result({ timestamp, results: recipient.map((r) => ({ recipientAddress: { number: r }, type: 'SUCCESS' })) });
      }
      case 'sendTyping':
        return result({});
      case 'getAttachment': {
        const bytes = attachments.get(String(params['id']));
        return bytes ? result({ data: bytes.toString('base64') }) : rpcError(id, -1, `An error occurred reading attachment: ${String(params['id'])}`);
      }
      case 'startLink': {
        pendingLink = { uri: `sgnl://linkdevice?uuid=${Math.random().toString(36).slice(2)}&pub_key=BQtest`, finish: null };
        return result({ deviceLinkUri: pendingLink.uri });
      }
      case 'finishLink': {
        const link = pendingLink;
        if (!link || params['deviceLinkUri'] !== link.uri) return rpcError(id, -1, 'Link request error: unknown link URI');
        await new Promise<void>((resolve) => {
          link.finish = resolve;
        });
        account = phone;
        pendingLink = null;
        return result({ number: phone, aci: accountUuid });
      }
      default:
        return rpcError(id, -32601, `Method not implemented: ${method}`);
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/v1/check') {
      res.writeHead(req.method === 'GET' ? 200 : 405).end();
      return;
    }
    if (url.pathname === '/api/v1/events') {
      if (req.method !== 'GET') return void res.writeHead(405).end();
      const wanted = url.searchParams.get('account');
      if (wanted && wanted !== account) return void res.writeHead(400).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      const header = req.headers['last-event-id'];
      resumedFrom.push(typeof header === 'string' ? header : null);
      const last = Number(header);
      const known = Number.isFinite(last) && events.some((e) => e.id === last);
      for (const event of events) if (!known || event.id > last) writeEvent(res, event);
      streams.add(res);
      waiters.notify();
      res.once('close', () => streams.delete(res));
      return;
    }
    if (url.pathname !== '/api/v1/rpc') return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return void res.writeHead(415).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body: { method?: unknown; params?: unknown; id?: unknown };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return send(res, rpcError(null, -32700, 'Parse error'));
        }
        if (typeof body.method !== 'string') return send(res, rpcError(body.id ?? null, -32600, 'method field must be set'));
        const reply = await call(body.method, (body.params ?? {}) as Record<string, unknown>, body.id ?? null).catch((err: unknown) => rpcError(body.id ?? null, -32603, String(err)));
        send(res, reply);
      })();
    });
  };
  const send = (res: ServerResponse, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = createServer(onRequest);
  const listener = await listenLocal(server);

  return {
    url: `http://127.0.0.1:${listener.port}`,
    get account() {
      return account;
    },
    accountUuid,
    calls,
    sent,
    resumedFrom,
    incoming(from, text, o = {}) {
      const timestamp = ++clock;
      let message = text;
      const mentions: NonNullable<SignalEnvelope['dataMessage']['mentions']> = [];
      if (o.mentionMe) {
        mentions.push({ name: phone, number: phone, uuid: accountUuid, start: 0, length: 1 });
        message = `\uFFFC ${text}`;
      }
      const files: NonNullable<SignalEnvelope['dataMessage']['attachments']> = [];
      if (o.attachment) {
        const id = `att${timestamp}.bin`;
        attachments.set(id, o.attachment.bytes);
        files.push({ contentType: o.attachment.contentType, filename: o.attachment.filename, id, size: o.attachment.bytes.length });
      }
      const envelope: SignalEnvelope = {
        source: from.number,
        sourceNumber: from.number,
        sourceUuid: from.uuid,
        sourceName: from.name,
        sourceDevice: 1,
        timestamp,
        dataMessage: {
          timestamp,
          message,
          expiresInSeconds: 0,
          viewOnce: false,
          ...(mentions.length ? { mentions } : {}),
          ...(files.length ? { attachments: files } : {}),
          ...(o.group ? { groupInfo: { groupId: o.group.id, groupName: o.group.name, type: 'DELIVER' } } : {}),
        },
      };
      publish(envelope);
      return envelope;
    },
    redeliver: (envelope) => publish(envelope),
    cut() {
      for (const res of streams) res.destroy();
      streams.clear();
    },
    get streams() {
      return streams.size;
    },
    scanLink() {
      if (!pendingLink?.finish) throw new Error('no finishLink is waiting');
      pendingLink.finish();
    },
    waitForSent: (pred, timeoutMs = 10_000) => waiters.until(() => sent.find(pred), timeoutMs, 'a sent message'),
    async close() {
      clearInterval(keepAlive);
      pendingLink?.finish?.();
      await listener.close();
    },
  };
}
