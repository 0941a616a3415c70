/**
 * A local WhatsApp Web multi-device server for tests (never used by product
 * code): the WebSocket at `/ws/chat` speaking what baileys speaks to
 * web.whatsapp.com, from the socket up —
 *
 * * the Noise XX handshake (Noise_XX_25519_AESGCM_SHA256, the `WA` intro
 *   header, 3-byte length framing), as the responder, with a certificate
 *   chain signed by this server's own root key (`rootKey`: the companion
 *   trusts it through `whatsapp.serverKey`, as it trusts WhatsApp's through
 *   the key pinned in baileys);
 * * the binary XMPP-like nodes (baileys' own encoder/decoder) in the Noise
 *   transport;
 * * first link: `pair-device` refs (the QR), then `pair-success` with an ADV
 *   device identity signed by the phone's account key and MACed with the
 *   QR's adv secret, then stream error 515 (restart);
 * * login by stored creds: the device's static Noise key must be the one
 *   linked (else `<failure reason="401">`), then `<success>`, the iqs baileys
 *   awaits (pre-key count and upload, passive, digest, usync, pre-key fetch,
 *   pings; everything else an empty result), `<ib><offline count>` once the
 *   queued messages were handed over;
 * * messages from contacts as Signal-protocol `<message><enc type=pkmsg|msg>`
 *   nodes, encrypted by each contact's own libsignal session (baileys' Signal
 *   repository plays the contact), kept queued until the device sends its
 *   receipt — and delivered again on the next login if it never did;
 * * what the device sends (`<message><participants><to><enc>`) decrypted by
 *   the contact's session.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { BinaryNode, SignalAuthState, SignalDataTypeMap, SignalKeyStore, proto as Proto } from 'baileys';
import type * as BaileysModule from 'baileys';
import { WebSocketServer, type WebSocket } from 'ws';
import { listenLocal } from './listen-local';

type Baileys = typeof BaileysModule;

export interface WhatsAppContact {
  /** The phone number (digits). */
  number: string;
  name: string;
}

export interface WhatsAppSent {
  /** The chat the device sent to (a user jid or a group jid). */
  to: string;
  id: string;
  message: Proto.IMessage;
  text: string;
}

export interface WhatsAppServer {
  /** ws://127.0.0.1:PORT/ws/chat — `whatsapp.url`. */
  url: string;
  /** The root certificate key (base64): `whatsapp.serverKey`. */
  rootKey: string;
  /** The owner's phone number the device links to. */
  phone: string;
  /** The linked device's jid (null until a QR was scanned). */
  deviceJid(): string | null;
  /** Every QR `ref` handed to a device waiting for its link. */
  refs: string[];
  /** Scans a QR payload as the phone does: links the device that shows it. */
  scan(qr: string): void;
  /** A contact writes to the device (a DM, or into `group`); returns the message id. */
  incoming(from: WhatsAppContact, text: string, opts?: { id?: string; group?: { id: string; subject: string }; mentionsMe?: boolean }): Promise<string>;
  /** Hands the node of an earlier message over once more (the server's redelivery). */
  redeliver(id: string): void;
  /** A `<message>` node that nobody's session encrypted (garbage ciphertext). */
  forged(from: WhatsAppContact, id: string): void;
  /** Messages the device sent, decrypted by the recipient's session. */
  sent: WhatsAppSent[];
  /** Message ids the device sent a (delivery) receipt for. */
  receipts: Set<string>;
  /** Message ids the device refused (a retry receipt or an ack with an error). */
  nacks: Set<string>;
  /** How many logins (by stored creds) were accepted. */
  logins: number;
  /** Open device connections past the handshake. */
  connections(): number;
  /** Cuts every connection (the network dropped). */
  cut(): void;
  /** Ends the link (the phone removed the device): the next login is refused with 401. */
  unlink(): void;
  /** Resolves once `pred` holds for something the device sent. */
  waitForSent(pred: (s: WhatsAppSent) => boolean, timeoutMs?: number): Promise<WhatsAppSent>;
  close(): Promise<void>;
}

const S_WHATSAPP_NET = 's.whatsapp.net';

/** An in-memory Signal key store for one contact's libsignal repository. */
function memoryKeys(b: Baileys): SignalKeyStore {
  // Kept as JSON (as a real store keeps them): libsignal changes the objects it loaded.
  const data = new Map<string, string>();
  return {
    get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const v = data.get(`${type}:${id}`);
        if (v !== undefined) out[id] = JSON.parse(v, b.BufferJSON.reviver) as SignalDataTypeMap[T];
      }
      return out;
    },
    set: async (d) => {
      for (const [type, entries] of Object.entries(d)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          if (value === null || value === undefined) data.delete(`${type}:${id}`);
          else data.set(`${type}:${id}`, JSON.stringify(value, b.BufferJSON.replacer));
        }
      }
    },
  };
}

interface Bundle {
  registrationId: number;
  identity: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKeys: Array<{ keyId: number; publicKey: Buffer }>;
}

interface ContactSession {
  contact: WhatsAppContact;
  jid: string;
  repo: ReturnType<Baileys['DEFAULT_CONNECTION_CONFIG']['makeSignalRepository']>;
  auth: SignalAuthState;
  /** The device's session was set up from its bundle. */
  started: boolean;
}

const silentLogger = {
  level: 'silent',
  child() {
    return silentLogger;
  },
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export async function startWhatsAppServer(opts: { phone?: string } = {}): Promise<WhatsAppServer> {
  const b: Baileys = await import('baileys');
  const { Curve, proto, hkdf, sha256, aesEncryptGCM, aesDecryptGCM, encodeBinaryNode, decodeBinaryNode, hmacSign } = b;
  const phone = opts.phone ?? '15550001111';
  const root = Curve.generateKeyPair();
  const serverStatic = Curve.generateKeyPair();
  const account = Curve.generateKeyPair();
  // The certificate chain: the intermediate signed by the root, the leaf (this server's static key) by the intermediate.
  const intermediateKey = Curve.generateKeyPair();
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({ serial: 1, issuerSerial: 0, key: intermediateKey.public, notBefore: 0, notAfter: 0 }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({ serial: 2, issuerSerial: 1, key: serverStatic.public, notBefore: 0, notAfter: 0 }).finish();
  const certChain = proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Buffer.from(Curve.sign(root.private, intermediateDetails)) },
    leaf: { details: leafDetails, signature: Buffer.from(Curve.sign(intermediateKey.private, leafDetails)) },
  }).finish();

  let linked: { noiseKey: Buffer; jid: string; bundle: Bundle | null } | null = null;
  const refs: string[] = [];
  const sent: WhatsAppSent[] = [];
  const receipts = new Set<string>();
  const nacks = new Set<string>();
  /** Messages not yet receipted, in order: handed over on each login. */
  const queue = new Map<string, BinaryNode>();
  const all = new Map<string, BinaryNode>();
  const contacts = new Map<string, ContactSession>();
  const live = new Set<{ send(node: BinaryNode): void; ws: WebSocket; device: boolean }>();
  const waiters = new Set<() => void>();
  let logins = 0;
  let waitingForScan: { send(node: BinaryNode): void; ws: WebSocket } | null = null;
  let tag = 0;
  const nextId = () => `srv-${++tag}`;
  const notify = () => {
    for (const w of waiters) w();
  };

  const contactSession = (contact: WhatsAppContact): ContactSession => {
    let c = contacts.get(contact.number);
    if (!c) {
      const creds = b.initAuthCreds();
      const auth: SignalAuthState = { creds, keys: b.addTransactionCapability(memoryKeys(b), silentLogger as never, { maxCommitRetries: 1, delayBetweenTriesMs: 1 }) };
      c = { contact, jid: `${contact.number}@${S_WHATSAPP_NET}`, auth, repo: b.DEFAULT_CONNECTION_CONFIG.makeSignalRepository(auth, silentLogger as never), started: false };
      contacts.set(contact.number, c);
    }
    return c;
  };

  const encryptFor = async (c: ContactSession, message: Proto.IMessage) => {
    if (!linked?.bundle) throw new Error('the device has not uploaded its keys yet');
    if (!c.started) {
      const bundle = linked.bundle;
      const preKey = bundle.preKeys.shift();
      await c.repo.injectE2ESession({
        jid: linked.jid,
        session: {
          registrationId: bundle.registrationId,
          identityKey: b.generateSignalPubKey(bundle.identity),
          signedPreKey: { keyId: bundle.signedPreKey.keyId, publicKey: b.generateSignalPubKey(bundle.signedPreKey.publicKey), signature: bundle.signedPreKey.signature },
          ...(preKey ? { preKey: { keyId: preKey.keyId, publicKey: b.generateSignalPubKey(preKey.publicKey) } } : {}),
        },
      });
      c.started = true;
    }
    return c.repo.encryptMessage({ jid: linked.jid, data: b.encodeWAMessage(message) });
  };

  const deliver = (node: BinaryNode) => {
    for (const conn of live) if (conn.device) conn.send(node);
  };

  const onIq = async (conn: { send(node: BinaryNode): void }, node: BinaryNode) => {
    const { id, xmlns, type } = node.attrs;
    const children = Array.isArray(node.content) ? node.content : [];
    const first = children[0];
    const result = (content?: BinaryNode[]) => conn.send({ tag: 'iq', attrs: { id: id ?? '', type: 'result', from: S_WHATSAPP_NET }, ...(content ? { content } : {}) });
    if (type === 'result' || type === 'error') return;
    if (xmlns === 'encrypt' && type === 'get' && first?.tag === 'count') return result([{ tag: 'count', attrs: { value: String(linked?.bundle?.preKeys.length ?? 0) } }]);
    if (xmlns === 'encrypt' && type === 'set' && linked) {
      const child = (n: BinaryNode, t: string) => b.getBinaryNodeChild(n, t);
      const bytes = (n: BinaryNode | undefined) => Buffer.from((n?.content as Uint8Array | undefined) ?? []);
      const list = child(node, 'list');
      const skey = child(node, 'skey');
      const prior = linked.bundle;
      linked.bundle = {
        registrationId: bytes(child(node, 'registration')).readUInt32BE(0),
        identity: bytes(child(node, 'identity')),
        signedPreKey: { keyId: bytes(child(skey!, 'id')).readUIntBE(0, 3), publicKey: bytes(child(skey!, 'value')), signature: bytes(child(skey!, 'signature')) },
        preKeys: [
          ...(prior?.preKeys ?? []),
          ...b.getBinaryNodeChildren(list!, 'key').map((k) => ({ keyId: bytes(child(k, 'id')).readUIntBE(0, 3), publicKey: bytes(child(k, 'value')) })),
        ],
      };
      return result();
    }
    if (xmlns === 'encrypt' && type === 'get' && first?.tag === 'digest') return result([{ tag: 'digest', attrs: {} }]);
    if (xmlns === 'encrypt' && type === 'get' && first?.tag === 'key') {
      // Pre-key bundles of contacts (the device starts a session with them).
      const users = b.getBinaryNodeChildren(first, 'user');
      const list: BinaryNode[] = [];
      for (const u of users) {
        const jid = u.attrs.jid ?? '';
        const c = contacts.get(jid.split('@')[0]!.split(':')[0]!);
        if (!c) continue;
        const creds = c.auth.creds;
        const preKeyPair = Curve.generateKeyPair();
        const preKeyId = 1_000 + list.length;
        await c.auth.keys.set({ 'pre-key': { [preKeyId]: preKeyPair } });
        const id3 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
        const reg = Buffer.alloc(4);
        reg.writeUInt32BE(creds.registrationId);
        list.push({
          tag: 'user',
          attrs: { jid },
          content: [
            { tag: 'registration', attrs: {}, content: reg },
            { tag: 'type', attrs: {}, content: Buffer.from([5]) },
            { tag: 'identity', attrs: {}, content: creds.signedIdentityKey.public },
            { tag: 'key', attrs: {}, content: [{ tag: 'id', attrs: {}, content: id3(preKeyId) }, { tag: 'value', attrs: {}, content: preKeyPair.public }] },
            {
              tag: 'skey',
              attrs: {},
              content: [
                { tag: 'id', attrs: {}, content: id3(creds.signedPreKey.keyId) },
                { tag: 'value', attrs: {}, content: creds.signedPreKey.keyPair.public },
                { tag: 'signature', attrs: {}, content: creds.signedPreKey.signature },
              ],
            },
          ],
        });
      }
      return result([{ tag: 'list', attrs: {}, content: list }]);
    }
    if (xmlns === 'usync') {
      // Each user has one device (the phone, device 0); our own account has this device only.
      const usync = b.getBinaryNodeChild(node, 'usync');
      const listNode = b.getBinaryNodeChild(usync!, 'list');
      const users = b.getBinaryNodeChildren(listNode!, 'user').map((u) => u.attrs.jid ?? '');
      const me = linked?.jid ?? '';
      const meDevice = Number(me.split('@')[0]!.split(':')[1] ?? 0);
      return result([
        {
          tag: 'usync',
          attrs: { sid: usync?.attrs.sid ?? '', mode: 'query', last: 'true', index: '0', context: usync?.attrs.context ?? 'message' },
          content: [
            {
              tag: 'list',
              attrs: {},
              content: users.map((jid) => {
                const own = jid.split('@')[0]!.split(':')[0] === phone;
                const devices = own ? [meDevice] : [0];
                return {
                  tag: 'user',
                  attrs: { jid },
                  content: [
                    {
                      tag: 'devices',
                      attrs: {},
                      content: [{ tag: 'device-list', attrs: {}, content: devices.map((d) => ({ tag: 'device', attrs: { id: String(d), 'key-index': String(d) } })) }],
                    },
                  ],
                };
              }),
            },
          ],
        },
      ]);
    }
    return result();
  };

  const onMessageFromDevice = async (conn: { send(node: BinaryNode): void }, node: BinaryNode) => {
    const to = node.attrs.to ?? '';
    const id = node.attrs.id ?? '';
    conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: String(Math.floor(Date.now() / 1000)) } });
    const participants = b.getBinaryNodeChild(node, 'participants');
    const targets = participants ? b.getBinaryNodeChildren(participants, 'to') : [{ tag: 'to', attrs: { jid: to }, content: [b.getBinaryNodeChild(node, 'enc')!] }];
    for (const t of targets) {
      const jid = t.attrs.jid ?? '';
      const c = contacts.get(jid.split('@')[0]!.split(':')[0]!);
      const enc = b.getBinaryNodeChild(t, 'enc');
      if (!c || !enc || !linked) continue;
      const type = enc.attrs.type as 'pkmsg' | 'msg';
      const plain = await c.repo.decryptMessage({ jid: linked.jid, type, ciphertext: Buffer.from(enc.content as Uint8Array) });
      const message = proto.Message.decode(b.unpadRandomMax16(plain));
      const text = message.conversation ?? message.extendedTextMessage?.text ?? message.documentMessage?.caption ?? '';
      sent.push({ to, id, message, text });
      notify();
    }
  };

  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const listener = await listenLocal(server, {
    wss,
    path: '/ws/chat',
    onSocket(ws) {
      // Handshake state (the responder's side of baileys' noise handler).
      let hash = Buffer.from(b.NOISE_MODE);
      let salt = hash;
      let key = hash;
      let counter = 0;
      let transport: { enc: Buffer; dec: Buffer; r: number; w: number } | null = null;
      let inBytes = Buffer.alloc(0);
      let headerSeen = false;
      let stage: 'hello' | 'finish' | 'open' = 'hello';
      let ephemeral = Curve.generateKeyPair();
      let clientEphemeral = Buffer.alloc(0);
      let chain: Promise<void> = Promise.resolve();
      const iv = (n: number) => {
        const v = Buffer.alloc(12);
        v.writeUInt32BE(n, 8);
        return v;
      };
      const authenticate = (data: Uint8Array) => {
        if (!transport) hash = Buffer.from(sha256(Buffer.concat([hash, data])));
      };
      const mix = (data: Uint8Array) => {
        const k = hkdf(Buffer.from(data), 64, { salt, info: '' });
        salt = Buffer.from(k.subarray(0, 32));
        key = Buffer.from(k.subarray(32));
        counter = 0;
      };
      const encrypt = (plain: Uint8Array) => {
        const out = aesEncryptGCM(plain, key, iv(counter++), hash);
        authenticate(out);
        return out;
      };
      const decrypt = (cipher: Uint8Array) => {
        const out = aesDecryptGCM(cipher, key, iv(counter++), hash);
        authenticate(cipher);
        return out;
      };
      const frame = (data: Uint8Array) => {
        const out = Buffer.alloc(3 + data.length);
        out.writeUIntBE(data.length, 0, 3);
        out.set(data, 3);
        if (ws.readyState === ws.OPEN) ws.send(out);
      };
      const conn = {
        ws,
        device: false,
        send(node: BinaryNode) {
          if (!transport) return;
          const plain = encodeBinaryNode(node);
          frame(aesEncryptGCM(plain, transport.enc, iv(transport.w++), Buffer.alloc(0)));
        },
      };
      const onNode = async (node: BinaryNode) => {
        if (node.tag === 'iq') {
          const pairSign = b.getBinaryNodeChild(node, 'pair-device-sign');
          if (pairSign) {
            // Linked: the device must log in again with its new creds.
            conn.send({ tag: 'stream:error', attrs: { code: '515' } });
            ws.close();
            return;
          }
          return onIq(conn, node);
        }
        if (node.tag === 'receipt' || (node.tag === 'ack' && node.attrs.class === 'message')) {
          const id = node.attrs.id ?? '';
          const more = b.getBinaryNodeChild(node, 'list');
          const ids = [id, ...(more ? b.getBinaryNodeChildren(more, 'item').map((i) => i.attrs.id ?? '') : [])];
          const refused = (node.tag === 'receipt' && node.attrs.type === 'retry') || (node.tag === 'ack' && !!node.attrs.error);
          for (const one of ids) {
            if (refused) nacks.add(one);
            else {
              if (node.tag === 'receipt') receipts.add(one);
              queue.delete(one);
            }
          }
          notify();
          return;
        }
        if (node.tag === 'message') return onMessageFromDevice(conn, node);
      };
      const onFrame = (data: Buffer) => {
        if (stage === 'hello') {
          const hello = proto.HandshakeMessage.decode(data).clientHello;
          clientEphemeral = Buffer.from(hello?.ephemeral ?? []);
          authenticate(b.NOISE_WA_HEADER);
          authenticate(clientEphemeral);
          ephemeral = Curve.generateKeyPair();
          authenticate(ephemeral.public);
          mix(Curve.sharedKey(ephemeral.private, clientEphemeral));
          const staticEnc = encrypt(serverStatic.public);
          mix(Curve.sharedKey(serverStatic.private, clientEphemeral));
          const payload = encrypt(certChain);
          frame(proto.HandshakeMessage.encode({ serverHello: { ephemeral: ephemeral.public, static: staticEnc, payload } }).finish());
          stage = 'finish';
          return;
        }
        if (stage === 'finish') {
          const fin = proto.HandshakeMessage.decode(data).clientFinish;
          const clientStatic = decrypt(fin?.static ?? Buffer.alloc(0));
          mix(Curve.sharedKey(ephemeral.private, clientStatic));
          const payload = proto.ClientPayload.decode(decrypt(fin?.payload ?? Buffer.alloc(0)));
          const k = hkdf(Buffer.alloc(0), 64, { salt, info: '' });
          transport = { enc: Buffer.from(k.subarray(32)), dec: Buffer.from(k.subarray(0, 32)), r: 0, w: 0 };
          stage = 'open';
          const t = String(Math.floor(Date.now() / 1000));
          if (payload.devicePairingData) {
            // A new device: QR refs until the phone scans one.
            const ref = randomBytes(12).toString('base64');
            refs.push(ref);
            waitingForScan = conn;
            conn.send({ tag: 'iq', attrs: { id: nextId(), type: 'set', xmlns: 'md', from: S_WHATSAPP_NET }, content: [{ tag: 'pair-device', attrs: {}, content: [{ tag: 'ref', attrs: {}, content: Buffer.from(ref) }] }] });
            return;
          }
          const jid = `${String(payload.username)}:${payload.device ?? 0}@${S_WHATSAPP_NET}`;
          if (!linked || !linked.noiseKey.equals(Buffer.from(clientStatic)) || linked.jid !== jid) {
            conn.send({ tag: 'failure', attrs: { reason: '401', location: 'local' } });
            ws.close();
            return;
          }
          logins += 1;
          conn.device = true;
          live.add(conn);
          conn.send({ tag: 'success', attrs: { t, props: '1', abprops: '1', location: 'local', creation: t } });
          // The messages queued while the device was away, then the end of the backlog.
          const backlog = [...queue.values()];
          for (const m of backlog) conn.send({ ...m, attrs: { ...m.attrs, offline: '1' } });
          conn.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(backlog.length) } }] });
          notify();
          return;
        }
        const plain = aesDecryptGCM(data, transport!.dec, iv(transport!.r++), Buffer.alloc(0));
        chain = chain.then(async () => onNode(await decodeBinaryNode(plain))).catch((err: unknown) => {
          console.error('whatsapp test server:', err);
        });
      };
      ws.on('message', (raw: Buffer) => {
        let data = Buffer.from(raw);
        if (!headerSeen) {
          headerSeen = true;
          data = data.subarray(b.NOISE_WA_HEADER.length);
        }
        inBytes = Buffer.concat([inBytes, data]);
        while (inBytes.length >= 3) {
          const size = inBytes.readUIntBE(0, 3);
          if (inBytes.length < size + 3) break;
          const one = inBytes.subarray(3, size + 3);
          inBytes = inBytes.subarray(size + 3);
          try {
            onFrame(Buffer.from(one));
          } catch {
            // A handshake that does not verify ends the connection (as WhatsApp does).
            ws.close();
            return;
          }
        }
      });
      ws.on('close', () => {
        live.delete(conn);
        if (waitingForScan === conn) waitingForScan = null;
        notify();
      });
    },
  });

  const url = `ws://127.0.0.1:${listener.port}/ws/chat`;
  return {
    url,
    rootKey: Buffer.from(root.public).toString('base64'),
    phone,
    deviceJid: () => linked?.jid ?? null,
    refs,
    sent,
    receipts,
    nacks,
    get logins() {
      return logins;
    },
    connections: () => [...live].filter((c) => c.device).length,
    scan(qr) {
      // `https://wa.me/settings/linked_devices#ref,noiseKey,identityKey,advSecret,platform` (or the bare list).
      const [ref, noiseB64, identityB64, advB64] = qr.slice(qr.indexOf('#') + 1).split(',');
      if (!ref || !noiseB64 || !identityB64 || !advB64 || !refs.includes(ref)) throw new Error(`not a QR this server showed: ${qr}`);
      const conn = waitingForScan;
      if (!conn) throw new Error('no device waits for a scan');
      const identity = Buffer.from(identityB64, 'base64');
      const deviceId = 7;
      const deviceDetails = proto.ADVDeviceIdentity.encode({ rawId: 1, timestamp: Math.floor(Date.now() / 1000), keyIndex: deviceId }).finish();
      const accountSignature = Curve.sign(account.private, Buffer.concat([b.WA_ADV_ACCOUNT_SIG_PREFIX, deviceDetails, identity]));
      const details = proto.ADVSignedDeviceIdentity.encode({ details: deviceDetails, accountSignatureKey: account.public, accountSignature }).finish();
      const hmac = hmacSign(details, Buffer.from(advB64, 'base64'));
      const jid = `${phone}:${deviceId}@${S_WHATSAPP_NET}`;
      linked = { noiseKey: Buffer.from(noiseB64, 'base64'), jid, bundle: null };
      conn.send({
        tag: 'iq',
        attrs: { id: nextId(), type: 'set', from: S_WHATSAPP_NET, t: String(Math.floor(Date.now() / 1000)) },
        content: [
          {
            tag: 'pair-success',
            attrs: {},
            content: [
              { tag: 'device-identity', attrs: {}, content: proto.ADVSignedDeviceIdentityHMAC.encode({ details, hmac }).finish() },
              { tag: 'platform', attrs: { name: 'smba' } },
              { tag: 'device', attrs: { jid } },
            ],
          },
        ],
      });
    },
    async incoming(from, text, o = {}) {
      const c = contactSession(from);
      const id = o.id ?? `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
      const me = linked?.jid.replace(/:\d+@/, '@') ?? '';
      const message: Proto.IMessage = o.mentionsMe
        ? { extendedTextMessage: { text, contextInfo: { mentionedJid: [me] } } }
        : { conversation: text };
      const { type, ciphertext } = await encryptFor(c, message);
      const node: BinaryNode = {
        tag: 'message',
        attrs: {
          id,
          from: o.group ? o.group.id : c.jid,
          ...(o.group ? { participant: c.jid } : {}),
          type: 'text',
          t: String(Math.floor(Date.now() / 1000)),
          notify: from.name,
        },
        content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
      };
      queue.set(id, node);
      all.set(id, node);
      deliver(node);
      return id;
    },
    redeliver(id) {
      const node = all.get(id);
      if (!node) throw new Error(`no message ${id}`);
      deliver(node);
    },
    forged(from, id) {
      const c = contactSession(from);
      deliver({
        tag: 'message',
        attrs: { id, from: c.jid, type: 'text', t: String(Math.floor(Date.now() / 1000)), notify: from.name },
        content: [{ tag: 'enc', attrs: { v: '2', type: 'msg' }, content: randomBytes(64) }],
      });
    },
    cut() {
      for (const c of live) c.ws.terminate();
    },
    unlink() {
      linked = null;
      for (const c of live) c.ws.terminate();
    },
    waitForSent(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = sent.find(pred);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a sent WhatsApp message; sent: ${JSON.stringify(sent.map((s) => s.text))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => listener.close(),
  };
}
