/**
 * WhatsApp through baileys: the gateway is a linked device (multi-device) of
 * the owner's WhatsApp account. Its auth state (creds and Signal keys) lives
 * in the channel's encrypted state (auth-state.ts). Without a link, the
 * `pair-device` refs become QR codes for the Channels page; after the phone
 * scans one the server asks for a restart and the device logs in with its
 * stored creds — as it does on every later start.
 *
 * Store before acknowledge: baileys sends a message's receipt (which lets
 * WhatsApp drop it) right after decrypting it, and emits `messages.upsert`
 * only after that. So the message is stored from inside the decryption: the
 * Signal repository baileys is given wraps its own, and within the key
 * transaction of each decryption the plaintext becomes an inbound message
 * and `ctx.receive` commits it; the ratchet's new keys are committed after
 * that, and the receipt goes out after both. A crash before the commit
 * leaves the message unreceipted (WhatsApp hands it over again, and the old
 * keys still decrypt it); a crash after it makes the redelivery a duplicate
 * of the stored id. Offline messages (`offline` nodes after a reconnect)
 * take the same path.
 *
 * Liveness: every frame from the server (baileys pings it every third of the
 * limit). A closed connection fails the run (the runner reconnects with
 * backoff); a logged-out device forgets its link and is down: re-link needed.
 */
import { AsyncResource } from 'node:async_hooks';
import { AppError } from '@autoclaw/shared';
import type { BinaryNode, ConnectionState, proto as Proto, SignalAuthState, SignalKeyStoreWithTransaction, WASocket } from 'baileys';
import type * as BaileysModule from 'baileys';
import type { ChannelAdapter, ChannelContext, InboundMessage } from '../types';
import { loadAuthState, type StoredAuth } from './auth-state';
import { createWhatsAppMedia, type WhatsAppMedia } from './media';

type Baileys = typeof BaileysModule;
type Repository = ReturnType<Baileys['DEFAULT_CONNECTION_CONFIG']['makeSignalRepository']>;

export const WHATSAPP_DEFAULT_URL = 'wss://web.whatsapp.com/ws/chat';
const LIVENESS_MS = 45_000;
const RESTART_REQUIRED = 515;
const LOGGED_OUT = 401;
/** An upload ends by then (inside the outbox's 30 s limit of a send). */
const UPLOAD_TIMEOUT_MS = 25_000;

/** baileys' logs carry keys and node dumps: only its warnings' and errors' messages pass, without their objects. */
function quietLogger(ctx: ChannelContext) {
  const logger = {
    level: 'warn',
    child: () => logger,
    trace() {},
    debug() {},
    info() {},
    warn(_obj: unknown, msg?: string) {
      if (msg) ctx.logger.warn({ channel: 'whatsapp' }, `baileys: ${msg}`);
    },
    error(_obj: unknown, msg?: string) {
      if (msg) ctx.logger.warn({ channel: 'whatsapp' }, `baileys: ${msg}`);
    },
  };
  return logger;
}

const userOf = (jid: string) => jid.split('@')[0]!.split(':')[0]!;

function textOf(content: Proto.IMessage | undefined): { text: string; context: Proto.IContextInfo | null | undefined } {
  if (!content) return { text: '', context: null };
  if (content.conversation) return { text: content.conversation, context: null };
  const withText = content.extendedTextMessage;
  if (withText) return { text: withText.text ?? '', context: withText.contextInfo };
  const media = content.imageMessage ?? content.videoMessage ?? content.documentMessage;
  if (media) return { text: media.caption ?? '', context: media.contextInfo };
  return { text: '', context: null };
}

export function createWhatsAppAdapter(ctx: ChannelContext): ChannelAdapter {
  const url = ctx.setting('whatsapp.url') ?? WHATSAPP_DEFAULT_URL;
  const serverKey = ctx.setting('whatsapp.serverKey');
  const mediaCa = ctx.setting('whatsapp.mediaCa');
  const limit = ctx.tuning.livenessMs ?? LIVENESS_MS;
  let b!: Baileys;
  let auth!: StoredAuth;
  let media!: WhatsAppMedia;
  let sock: WASocket | null = null;
  let pinnedKey: Baileys['WA_CERT_DETAILS']['PUBLIC_KEY'] | null = null;
  let stopping = false;
  /** The `<message>` node each ciphertext came in (the decryption hook needs its id and sender). */
  const nodes = new WeakMap<Uint8Array, BinaryNode>();
  /**
   * Runs a function in the context the adapter was made in: what ctx.receive
   * starts (the turn, its answer's encryption) must not inherit the async
   * context of baileys' key transaction, or its key writes would land in a
   * transaction that has ended.
   */
  const outsideTransaction = AsyncResource.bind(<T>(fn: () => T): T => fn());
  let ready!: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });

  const me = () => auth.state.creds.me;
  const isMe = (jid: string | null | undefined) => {
    if (!jid) return false;
    const user = userOf(jid);
    return user === userOf(me()?.id ?? '') || (!!me()?.lid && user === userOf(me()!.lid!));
  };

  /** The inbound message a decrypted `<message>` node holds (null: nothing to answer). */
  const toInbound = (node: BinaryNode, message: Proto.IMessage): InboundMessage | null => {
    const from = node.attrs.from ?? '';
    const id = node.attrs.id ?? '';
    if (!id || from.endsWith('@broadcast') || from.endsWith('@newsletter')) return null;
    const group = from.endsWith('@g.us');
    const author = group ? (node.attrs.participant ?? '') : from;
    // Our own messages from the phone (synced to this device) are not for the assistant.
    if (!author || isMe(author)) return null;
    const content = b.normalizeMessageContent(message.deviceSentMessage?.message ?? message);
    const { text, context } = textOf(content);
    const number = userOf(node.attrs.participant_pn ?? node.attrs.sender_pn ?? author);
    const mentioned = (context?.mentionedJid ?? []).some((jid) => isMe(jid)) || isMe(context?.participant);
    const myNumber = userOf(me()?.id ?? '');
    return {
      platformId: `${from}/${id}`,
      conversation: { id: from, kind: group ? 'group' : 'dm' },
      sender: { id: number, name: node.attrs.notify || number },
      // A mention is "@<number>" in the text.
      text: myNumber ? text.replaceAll(`@${myNumber}`, ' ').replace(/\s+/g, ' ').trim() : text.trim(),
      // Downloaded (and stored) by ctx.receive, before the receipt.
      attachments: media.attachmentsOf(content),
      addressed: mentioned,
    };
  };

  /** Stores what a decryption yielded, inside its key transaction (before baileys' receipt). */
  const storeDecrypted = async (ciphertext: Uint8Array, plaintext: Uint8Array) => {
    const node = nodes.get(ciphertext);
    if (!node) return;
    const message = b.proto.Message.decode(b.unpadRandomMax16(plaintext));
    const inbound = toInbound(node, message);
    if (inbound) await outsideTransaction(() => ctx.receive(inbound));
  };

  const wrapRepository = (authState: SignalAuthState, inner: Repository): Repository => {
    const keys = authState.keys as SignalKeyStoreWithTransaction;
    return {
      ...inner,
      decryptMessage: (opts) =>
        keys.transaction(async () => {
          const plain = await inner.decryptMessage(opts);
          await storeDecrypted(opts.ciphertext, plain);
          return plain;
        }, opts.jid),
      decryptGroupMessage: (opts) =>
        keys.transaction(async () => {
          const plain = await inner.decryptGroupMessage(opts);
          await storeDecrypted(opts.msg, plain);
          return plain;
        }, opts.group),
    };
  };

  const connect = () => {
    const logger = quietLogger(ctx);
    const socket = b.makeWASocket({
      waWebSocketUrl: url,
      auth: auth.state,
      logger: logger as never,
      browser: b.Browsers.macOS('AutoClaw'),
      connectTimeoutMs: Math.min(20_000, limit),
      keepAliveIntervalMs: Math.max(1_000, Math.min(30_000, Math.floor(limit / 3))),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      fireInitQueries: false,
      generateHighQualityLinkPreview: false,
      ...(media.uploadAgent ? { fetchAgent: media.uploadAgent } : {}),
      makeSignalRepository: (authState, log, pnToLid) => wrapRepository(authState, b.DEFAULT_CONNECTION_CONFIG.makeSignalRepository(authState, log, pnToLid)),
    });
    sock = socket;
    socket.ev.on('creds.update', ctx.guard(() => auth.saveCreds()));
    socket.ws.on('frame', () => ctx.alive(limit));
    // Each message node passes here first: one stored already (a redelivery after its receipt was lost) gets
    // its receipt again without being decrypted (its keys were used); the others go on to baileys.
    const handlers = socket.ws.listeners('CB:message') as Array<(node: BinaryNode) => unknown>;
    socket.ws.removeAllListeners('CB:message');
    socket.ws.on(
      'CB:message',
      ctx.guard(async (node: BinaryNode) => {
        for (const child of Array.isArray(node.content) ? node.content : []) {
          if (child.content instanceof Uint8Array) nodes.set(child.content, node);
        }
        const { from = '', id = '', participant } = node.attrs;
        const probe = await outsideTransaction(() =>
          ctx.receive({ platformId: `${from}/${id}`, conversation: { id: from, kind: from.endsWith('@g.us') ? 'group' : 'dm' }, sender: { id: '', name: '' }, text: '' }),
        );
        if (probe === 'duplicate') {
          await socket.sendReceipt(from, participant, [id], undefined);
          return;
        }
        for (const handler of handlers) await handler(node);
      }),
    );
    socket.ev.on(
      'connection.update',
      ctx.guard((update: Partial<ConnectionState>) => {
        if (update.qr) {
          ctx.showQr(update.qr);
          ready();
        }
        if (update.connection === 'open') {
          ctx.showQr(null);
          ctx.alive(limit);
          ready();
        }
        if (update.connection !== 'close' || sock !== socket || stopping) return;
        sock = null;
        const err = update.lastDisconnect?.error as (Error & { output?: { statusCode?: number } }) | undefined;
        const code = err?.output?.statusCode;
        if (code === RESTART_REQUIRED) {
          // Linked just now: log in with the new creds.
          ctx.logger.info({ channel: 'whatsapp' }, 'whatsapp device linked');
          connect();
          return;
        }
        if (code === LOGGED_OUT) {
          auth.clear();
          ctx.fail(new AppError('UNAUTHORIZED', 'WhatsApp logged this device out: re-link needed (turn the channel off and on, then scan the new QR code)'));
          return;
        }
        ctx.fail(new AppError('PROVIDER_UNAVAILABLE', `WhatsApp: the connection closed (${err?.message ?? 'no reason given'}${code ? `, ${code}` : ''})`));
      }),
    );
  };

  const live = () => {
    if (!sock) throw new AppError('PROVIDER_UNAVAILABLE', 'WhatsApp is reconnecting');
    return sock;
  };
  const bounded = <T>(signal: AbortSignal, work: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(new AppError('TIMEOUT', 'WhatsApp: the send was aborted'));
      const onAbort = () => reject(new AppError('TIMEOUT', 'WhatsApp: the send was aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });

  return {
    limits: { maxTextChars: 4_000, editIntervalMs: 1_000, typingIntervalMs: 10_000 },
    async start() {
      b = await import('baileys');
      if (serverKey) {
        // Another server than WhatsApp's (self-hosted, or a test's): its root certificate key is pinned instead.
        const key = Buffer.from(Buffer.from(serverKey, 'base64'));
        if (key.length !== 32) throw new AppError('NOT_CONFIGURED', 'whatsapp.serverKey must be a 32-byte key in base64');
        pinnedKey = b.WA_CERT_DETAILS.PUBLIC_KEY;
        b.WA_CERT_DETAILS.PUBLIC_KEY = key;
      }
      auth = loadAuthState(ctx.state, b, url);
      media = createWhatsAppMedia(b, mediaCa);
      connect();
      await started;
    },
    async stop() {
      stopping = true;
      const socket = sock;
      sock = null;
      socket?.end(undefined);
      if (pinnedKey) b.WA_CERT_DETAILS.PUBLIC_KEY = pinnedKey;
      await media?.close();
    },
    async sendText(to, message, signal) {
      const sent = await bounded(signal, live().sendMessage(to.id, { text: message.text }));
      return { id: sent?.key.id ?? '' };
    },
    async sendFile(to, file, signal) {
      const content = await media.contentOf(file);
      const sent = await bounded(signal, live().sendMessage(to.id, content, { mediaUploadTimeoutMs: UPLOAD_TIMEOUT_MS }));
      return { id: sent?.key.id ?? '' };
    },
    async sendTyping(to, signal) {
      await bounded(signal, live().sendPresenceUpdate('composing', to.id));
    },
  };
}
