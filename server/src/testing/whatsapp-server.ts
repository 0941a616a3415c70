/**
 * A local WhatsApp Web multi-device server for tests (never used by product
 * code): the WebSocket at `/ws/chat` speaking what baileys speaks to
 * web.whatsapp.com, from the socket up (the Noise transport in
 * whatsapp-noise.ts, the iqs in whatsapp-iq.ts, the contacts' Signal
 * sessions in whatsapp-contacts.ts) —
 *
 * * the Noise XX handshake (Noise_XX_25519_AESGCM_SHA256, the `WA` intro
 *   header, 3-byte length framing), as the responder, with a certificate
 *   chain signed by this server's own root key (`rootKey`: the companion
 *   trusts it through `whatsapp.serverKey`, as it trusts WhatsApp's through
 *   the key pinned in baileys); the binary XMPP-like nodes (baileys' own
 *   encoder/decoder) in the Noise transport;
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
 *   the contact's session;
 * * media (whatsapp-media.ts): the `media_conn` iq, an HTTPS media host with
 *   a self-signed certificate (`mediaCa`: `whatsapp.mediaCa`) taking the
 *   device's encrypted uploads and serving the files of contacts' media
 *   messages, each checked and decrypted as WhatsApp's clients do.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { BinaryNode, proto as Proto } from 'baileys';
import type * as BaileysModule from 'baileys';
import { WebSocketServer } from 'ws';
import { listenLocal } from './listen-local';
import { createContacts, S_WHATSAPP_NET, userOf, type Linked, type WhatsAppContact } from './whatsapp-contacts';
import { answerIq, type WaGroup } from './whatsapp-iq';
import { readSentMessage, startWaMediaHost, type WaMediaHost, type WaSentFile } from './whatsapp-media';
import { acceptNoise, type WaConnection } from './whatsapp-noise';

export type { WhatsAppContact } from './whatsapp-contacts';

type Baileys = typeof BaileysModule;

export interface WhatsAppSent {
  /** The chat the device sent to (a user jid or a group jid). */
  to: string;
  id: string;
  message: Proto.IMessage;
  text: string;
  file?: WaSentFile;
}

/** A file a contact sends (its message points at the file, encrypted on the media host). */
export interface WhatsAppIncomingFile {
  kind: 'image' | 'video' | 'audio' | 'document';
  bytes: Buffer;
  mimeType: string;
  fileName?: string;
  /** The size the message states (default: the real one). */
  statedLength?: number;
  /** The media host answers this status for the file (404 / 410: expired). */
  failWith?: number;
  /** The stored file is damaged after it was sealed (its hashes no longer hold). */
  tampered?: boolean;
}

export interface WhatsAppServer {
  /** ws://127.0.0.1:PORT/ws/chat — `whatsapp.url`. */
  url: string;
  /** The root certificate key (base64): `whatsapp.serverKey`. */
  rootKey: string;
  /** The media host's CA certificate (PEM): `whatsapp.mediaCa`. */
  mediaCa: string;
  media: WaMediaHost;
  /** The owner's phone number the device links to. */
  phone: string;
  /** The linked device's jid (null until a QR was scanned). */
  deviceJid(): string | null;
  /** Every QR `ref` handed to a device waiting for its link. */
  refs: string[];
  /** Scans a QR payload as the phone does: links the device that shows it. */
  scan(qr: string): void;
  /** A contact writes to the device (a DM, or into `group`); returns the message id. */
  incoming(from: WhatsAppContact, text: string, opts?: { id?: string; group?: { id: string; subject: string }; mentionsMe?: boolean; file?: WhatsAppIncomingFile }): Promise<string>;
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

export async function startWhatsAppServer(opts: { phone?: string } = {}): Promise<WhatsAppServer> {
  const b: Baileys = await import('baileys');
  const { Curve, proto, hmacSign } = b;
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

  let linked: Linked | null = null;
  const refs: string[] = [];
  const sent: WhatsAppSent[] = [];
  const receipts = new Set<string>();
  const nacks = new Set<string>();
  /** Messages not yet receipted, in order: handed over on each login. */
  const queue = new Map<string, BinaryNode>();
  const all = new Map<string, BinaryNode>();
  const contacts = createContacts(b);
  const media = await startWaMediaHost();
  const live = new Set<WaConnection>();
  const waiters = new Set<() => void>();
  let logins = 0;
  let waitingForScan: WaConnection | null = null;
  let tag = 0;
  const nextId = () => `srv-${++tag}`;
  const notify = () => {
    for (const w of waiters) w();
  };

  const deliver = (node: BinaryNode) => {
    for (const conn of live) if (conn.device) conn.send(node);
  };

  const groups = new Map<string, WaGroup>();
  /** "<group> <number>": the member holds the device's sender key for the group. */
  const senderKeys = new Set<string>();
  const iq = { b, phone, contacts, groups, media, linked: () => linked };

  /**
   * What the device sends: to a contact, `<enc>` (pkmsg/msg) for the contact's
   * session; to a group, the text once as `<enc type=skmsg>` under the
   * device's sender key, whose distribution message goes to each member in a
   * pkmsg/msg of its own (`<participants><to>`).
   */
  const onMessageFromDevice = async (conn: { send(node: BinaryNode): void }, node: BinaryNode) => {
    const to = node.attrs.to ?? '';
    const id = node.attrs.id ?? '';
    conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: String(Math.floor(Date.now() / 1000)) } });
    if (!linked) return;
    const participants = b.getBinaryNodeChild(node, 'participants');
    const direct = b.getBinaryNodeChildren(node, 'enc').filter((e) => e.attrs.type !== 'skmsg');
    const targets = participants ? b.getBinaryNodeChildren(participants, 'to') : [{ tag: 'to', attrs: { jid: to }, content: direct }];
    const record = (message: Proto.IMessage) => {
      const { text, file } = readSentMessage(media, message);
      sent.push({ to, id, message, text, ...(file ? { file } : {}) });
      notify();
    };
    for (const t of targets) {
      const c = contacts.byUser(userOf(t.attrs.jid ?? ''));
      const enc = b.getBinaryNodeChild(t, 'enc');
      if (!c || !enc) continue;
      const plain = await c.repo.decryptMessage({ jid: linked.jid, type: enc.attrs.type as 'pkmsg' | 'msg', ciphertext: Buffer.from(enc.content as Uint8Array) });
      const message = proto.Message.decode(b.unpadRandomMax16(plain));
      const skdm = message.senderKeyDistributionMessage;
      if (skdm) {
        await c.repo.processSenderKeyDistributionMessage({ item: skdm, authorJid: linked.jid });
        senderKeys.add(`${to} ${c.contact.number}`);
      } else record(message);
    }
    const skmsg = b.getBinaryNodeChildren(node, 'enc').find((e) => e.attrs.type === 'skmsg');
    if (!skmsg) return;
    // Read by one member that holds the device's sender key (every member reads the same text).
    const reader = [...(groups.get(to)?.members ?? [])].filter((n) => senderKeys.has(`${to} ${n}`)).map((n) => contacts.byUser(n))[0];
    if (!reader) throw new Error(`no member of ${to} can read the group message ${id}`);
    const plain = await reader.repo.decryptGroupMessage({ group: to, authorJid: linked.jid, msg: Buffer.from(skmsg.content as Uint8Array) });
    record(proto.Message.decode(b.unpadRandomMax16(plain)));
  };

  const onReceipt = (node: BinaryNode) => {
    const more = b.getBinaryNodeChild(node, 'list');
    const ids = [node.attrs.id ?? '', ...(more ? b.getBinaryNodeChildren(more, 'item').map((i) => i.attrs.id ?? '') : [])];
    const refused = (node.tag === 'receipt' && node.attrs.type === 'retry') || (node.tag === 'ack' && !!node.attrs.error);
    for (const one of ids) {
      if (refused) nacks.add(one);
      else {
        if (node.tag === 'receipt') receipts.add(one);
        queue.delete(one);
      }
    }
    notify();
  };

  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const listener = await listenLocal(server, {
    wss,
    path: '/ws/chat',
    onSocket(ws) {
      acceptNoise({
        b,
        ws,
        serverStatic,
        certChain,
        onOpen(conn, clientStatic, payload) {
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
          if (!linked || !linked.noiseKey.equals(clientStatic) || linked.jid !== jid) {
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
        },
        onNode: async (conn, node) => {
          if (node.tag === 'iq') {
            if (b.getBinaryNodeChild(node, 'pair-device-sign')) {
              // Linked: the device must log in again with its new creds.
              conn.send({ tag: 'stream:error', attrs: { code: '515' } });
              ws.close();
              return;
            }
            return answerIq(iq, conn, node);
          }
          if (node.tag === 'receipt' || (node.tag === 'ack' && node.attrs.class === 'message')) return onReceipt(node);
          if (node.tag === 'message') return onMessageFromDevice(conn, node);
        },
        onClose(conn) {
          live.delete(conn);
          if (waitingForScan === conn) waitingForScan = null;
          notify();
        },
      });
    },
  });

  const url = `ws://127.0.0.1:${listener.port}/ws/chat`;
  return {
    url,
    rootKey: Buffer.from(root.public).toString('base64'),
    mediaCa: media.ca,
    media,
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
      const c = contacts.session(from);
      if (o.group) {
        const g = groups.get(o.group.id) ?? { subject: o.group.subject, members: new Set([phone]) };
        g.members.add(from.number);
        groups.set(o.group.id, g);
      }
      const id = o.id ?? `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
      const me = linked?.jid.replace(/:\d+@/, '@') ?? '';
      const contextInfo = o.mentionsMe ? { contextInfo: { mentionedJid: [me] } } : {};
      let message: Proto.IMessage = o.mentionsMe ? { extendedTextMessage: { text, ...contextInfo } } : { conversation: text };
      if (o.file) {
        const f = o.file;
        const sealed = media.seal(f.kind, f.bytes);
        if (f.failWith) media.fail(sealed.directPath, f.failWith);
        if (f.tampered) media.tamper(sealed.directPath);
        const fields = { ...sealed, fileLength: f.statedLength ?? sealed.fileLength, mimetype: f.mimeType, mediaKeyTimestamp: Math.floor(Date.now() / 1000) };
        const withText = f.kind === 'audio' ? {} : { ...(text ? { caption: text } : {}), ...contextInfo };
        message = { [`${f.kind}Message`]: { ...fields, ...withText, ...(f.kind === 'document' ? { fileName: f.fileName ?? 'file' } : {}) } };
      }
      const { type, ciphertext } = await contacts.encrypt(c, linked, message);
      const node: BinaryNode = {
        tag: 'message',
        attrs: {
          id,
          from: o.group ? o.group.id : c.jid,
          ...(o.group ? { participant: c.jid } : {}),
          type: o.file ? 'media' : 'text',
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
      const c = contacts.session(from);
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
    close: async () => {
      await listener.close();
      await media.close();
    },
  };
}
