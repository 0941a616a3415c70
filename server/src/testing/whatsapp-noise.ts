/**
 * The responder's side of the WhatsApp Web Noise transport for the test
 * server (whatsapp-server.ts): the `WA` intro header, 3-byte length
 * framing, the Noise_XX_25519_AESGCM_SHA256 handshake answered with this
 * server's certificate chain, then binary nodes (baileys' own codec) in
 * AES-GCM frames. What the device says after the handshake is the caller's.
 */
import type { BinaryNode, proto as Proto } from 'baileys';
import type * as BaileysModule from 'baileys';
import type { WebSocket } from 'ws';

type Baileys = typeof BaileysModule;

/** One device connection past (or in) its handshake. */
export interface WaConnection {
  ws: WebSocket;
  /** Logged in by stored creds (not a device waiting for its QR scan). */
  device: boolean;
  send(node: BinaryNode): void;
}

export interface NoiseOptions {
  b: Baileys;
  ws: WebSocket;
  serverStatic: { public: Uint8Array; private: Uint8Array };
  /** The encoded CertChain the client checks against its pinned root key. */
  certChain: Uint8Array;
  /** The handshake finished: the client's static key and login payload. */
  onOpen(conn: WaConnection, clientStatic: Buffer, payload: Proto.ClientPayload): void;
  onNode(conn: WaConnection, node: BinaryNode): Promise<void>;
  onClose(conn: WaConnection): void;
}

export function acceptNoise(o: NoiseOptions): WaConnection {
  const { b, ws } = o;
  const { Curve, proto, hkdf, sha256, aesEncryptGCM, aesDecryptGCM, encodeBinaryNode, decodeBinaryNode } = b;
  let hash = Buffer.from(b.NOISE_MODE);
  let salt = hash;
  let key = hash;
  let counter = 0;
  let transport: { enc: Buffer; dec: Buffer; r: number; w: number } | null = null;
  let inBytes = Buffer.alloc(0);
  let headerSeen = false;
  let stage: 'hello' | 'finish' | 'open' = 'hello';
  let ephemeral = Curve.generateKeyPair();
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
  const conn: WaConnection = {
    ws,
    device: false,
    send(node) {
      if (!transport) return;
      frame(aesEncryptGCM(encodeBinaryNode(node), transport.enc, iv(transport.w++), Buffer.alloc(0)));
    },
  };
  const onFrame = (data: Buffer) => {
    if (stage === 'hello') {
      const hello = proto.HandshakeMessage.decode(data).clientHello;
      const clientEphemeral = Buffer.from(hello?.ephemeral ?? []);
      authenticate(b.NOISE_WA_HEADER);
      authenticate(clientEphemeral);
      ephemeral = Curve.generateKeyPair();
      authenticate(ephemeral.public);
      mix(Curve.sharedKey(ephemeral.private, clientEphemeral));
      const staticEnc = encrypt(o.serverStatic.public);
      mix(Curve.sharedKey(o.serverStatic.private, clientEphemeral));
      const payload = encrypt(o.certChain);
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
      o.onOpen(conn, Buffer.from(clientStatic), payload);
      return;
    }
    const plain = aesDecryptGCM(data, transport!.dec, iv(transport!.r++), Buffer.alloc(0));
    chain = chain.then(async () => o.onNode(conn, await decodeBinaryNode(plain))).catch((err: unknown) => {
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
  ws.on('close', () => o.onClose(conn));
  return conn;
}
