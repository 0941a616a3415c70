/**
 * The media host of the WhatsApp test server (whatsapp-server.ts), over
 * HTTPS with a throw-away self-signed certificate (the gateway trusts it
 * through `whatsapp.mediaCa`):
 *
 * - upload: `POST /mms/<type>/<fileEncSha256, base64url>?auth=…&token=…`
 *   with the encrypted file as the body; the auth must be the one the
 *   `media_conn` iq handed out and the body's SHA-256 must be the token; the
 *   answer is `{ url, direct_path }`.
 * - download: `GET <direct_path>` gives the encrypted file back (or the 404 /
 *   410 a test set for it).
 *
 * A media file is AES-256-CBC encrypted with a key, IV and MAC key that are
 * HKDF-SHA256 (no salt) of the message's 32-byte mediaKey with the type's
 * info ("WhatsApp Image Keys", …), followed by the first 10 bytes of
 * HMAC-SHA256(macKey, iv ‖ ciphertext). `seal` encrypts as a phone does;
 * `open` checks and decrypts what the device sent, so a wrong encryption
 * fails the test.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { proto as Proto } from 'baileys';

export type WaMediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

const INFO: Record<WaMediaKind, string> = { image: 'Image', video: 'Video', audio: 'Audio', document: 'Document', sticker: 'Image' };

/** The fields of a media message that point at (and vouch for) its file. */
export interface WaMediaFields {
  url: string;
  directPath: string;
  mediaKey: Buffer;
  fileEncSha256: Buffer;
  fileSha256: Buffer;
  fileLength: number;
}

export interface WaMediaHost {
  /** `127.0.0.1:PORT`, as `media_conn` names it. */
  hostname: string;
  /** The self-signed certificate (PEM): `whatsapp.mediaCa`. */
  ca: string;
  /** The upload auth `media_conn` hands out. */
  auth: string;
  /** Uploads accepted. */
  uploads: number;
  /** Download requests seen. */
  downloads: number;
  /** Downloads wait (their requests seen, no answer) until the returned function is called. */
  holdDownloads(): () => void;
  /** Encrypts `bytes` as a phone does and keeps the file on the host. */
  seal(kind: WaMediaKind, bytes: Buffer): WaMediaFields;
  /** The file a media message points at: fetched from the host, its hashes and MAC checked, decrypted. */
  open(kind: WaMediaKind, m: { directPath?: string | null; mediaKey?: Uint8Array | null; fileEncSha256?: Uint8Array | null; fileSha256?: Uint8Array | null }): Buffer;
  /** The download of this file answers `status` from now on (404: gone, 410: expired). */
  fail(directPath: string, status: number): void;
  /** The next `n` uploads fail (500, as an overloaded host answers). */
  failUploads(n: number): void;
  /** Flips a byte of the stored file (the MAC and hashes no longer hold). */
  tamper(directPath: string): void;
  close(): Promise<void>;
}

function selfSignedLocalhost(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wa-media-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function mediaKeys(mediaKey: Uint8Array, kind: WaMediaKind) {
  const k = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(0), `WhatsApp ${INFO[kind]} Keys`, 112));
  return { iv: k.subarray(0, 16), cipherKey: k.subarray(16, 48), macKey: k.subarray(48, 80) };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array) => Buffer.from(data).toString('base64url');

export async function startWaMediaHost(): Promise<WaMediaHost> {
  const { cert, key } = selfSignedLocalhost();
  const files = new Map<string, Buffer>();
  const failing = new Map<string, number>();
  const auth = randomBytes(24).toString('base64');
  let uploads = 0;
  let failNext = 0;
  let downloads = 0;
  let held: Promise<void> | null = null;
  let hostname = '';

  const keep = (blob: Buffer) => {
    const directPath = `/v/t62.7118-24/${randomBytes(12).toString('hex')}.enc?ccb=11-4`;
    files.set(directPath, blob);
    return { directPath, url: `https://${hostname}${directPath}` };
  };

  const server = createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${hostname}`);
    const path = `${url.pathname}${url.search}`;
    const answer = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const serve = () => {
      const status = failing.get(path);
      if (status) return answer(status, { error: status === 410 ? 'gone' : 'not found' });
      const blob = files.get(path);
      if (!blob) return answer(404, { error: 'not found' });
      return res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
    };
    if (req.method === 'GET') {
      downloads += 1;
      if (held) return void held.then(serve);
      return serve();
    }
    const upload = /^\/mms\/(image|video|audio|document)\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !upload) return answer(404, { error: 'not found' });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (url.searchParams.get('auth') !== auth) return answer(401, { error: 'bad auth' });
      if (failNext > 0) {
        failNext -= 1;
        return answer(500, { error: 'try again' });
      }
      const body = Buffer.concat(chunks);
      // The token and the path name the encrypted file's SHA-256: what arrived must be it.
      if (b64url(sha256(body)) !== upload[2] || url.searchParams.get('token') !== upload[2]) return answer(400, { error: 'hash mismatch' });
      uploads += 1;
      const { directPath, url: fileUrl } = keep(body);
      answer(200, { url: fileUrl, direct_path: directPath });
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hostname = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    hostname,
    ca: cert,
    auth,
    get uploads() {
      return uploads;
    },
    get downloads() {
      return downloads;
    },
    holdDownloads() {
      let release!: () => void;
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        held = null;
        release();
      };
    },
    seal(kind, bytes) {
      const mediaKey = randomBytes(32);
      const { iv, cipherKey, macKey } = mediaKeys(mediaKey, kind);
      const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
      const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
      const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, 10);
      const blob = Buffer.concat([ciphertext, mac]);
      return { ...keep(blob), mediaKey, fileEncSha256: sha256(blob), fileSha256: sha256(bytes), fileLength: bytes.length };
    },
    open(kind, m) {
      const blob = files.get(m.directPath ?? '');
      if (!blob || !m.mediaKey) throw new Error(`no uploaded file at ${m.directPath}`);
      if (!m.fileEncSha256 || !sha256(blob).equals(Buffer.from(m.fileEncSha256))) throw new Error('fileEncSha256 does not match the uploaded file');
      const { iv, cipherKey, macKey } = mediaKeys(m.mediaKey, kind);
      const ciphertext = blob.subarray(0, blob.length - 10);
      const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, 10);
      if (!timingSafeEqual(mac, blob.subarray(blob.length - 10))) throw new Error(`the media MAC does not hold for a ${kind} key`);
      const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
      const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      if (!m.fileSha256 || !sha256(plain).equals(Buffer.from(m.fileSha256))) throw new Error('fileSha256 does not match the decrypted file');
      return plain;
    },
    fail(directPath, status) {
      failing.set(directPath, status);
    },
    failUploads(n) {
      failNext = n;
    },
    tamper(directPath) {
      const blob = files.get(directPath);
      if (!blob) throw new Error(`no file at ${directPath}`);
      blob[Math.floor(blob.length / 3)]! ^= 0xff;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A media message's file, fetched from the host and decrypted (its hashes and MAC held); `voice`: an audio message sent as a voice note (ptt). */
export interface WaSentFile {
  kind: WaMediaKind;
  name: string | null;
  mimeType: string;
  bytes: Buffer;
  voice: boolean;
}

/** What a message a device sent says (its text or caption) and the file it carries (null: none). */
export function readSentMessage(media: WaMediaHost, message: Proto.IMessage): { text: string; file: WaSentFile | null } {
  const text = message.conversation ?? message.extendedTextMessage?.text ?? message.documentMessage?.caption ?? message.imageMessage?.caption ?? message.videoMessage?.caption ?? '';
  const kinds = [
    ['image', message.imageMessage],
    ['video', message.videoMessage],
    ['audio', message.audioMessage],
    ['document', message.documentMessage],
  ] as const;
  const [kind, m] = kinds.find(([, field]) => field) ?? [null, null];
  if (!kind || !m) return { text, file: null };
  return { text, file: { kind, name: message.documentMessage?.fileName ?? null, mimeType: m.mimetype ?? '', bytes: media.open(kind, m), voice: message.audioMessage?.ptt === true } };
}
