/**
 * WhatsApp media both ways, through baileys: an image, video, audio, sticker
 * or document message becomes an inbound attachment whose download baileys
 * does (`downloadContentFromMessage`: the encrypted file from the media host,
 * AES-256-CBC with the keys HKDF-derived from the message's mediaKey), checked
 * here against the message's plaintext SHA-256 (baileys does not check it);
 * a file the agent wrote goes out as an image, video, voice note, audio or
 * document message — by the types WhatsApp plays (baileys encrypts it and
 * uploads it to the hosts its `media_conn` query names).
 *
 * The media hosts are HTTPS. `whatsapp.mediaCa` (PEM) is the CA trusted for
 * them besides the system's, for a server other than WhatsApp's: given to
 * baileys as its upload agent and as the download's dispatcher — TLS is
 * verified either way.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { AppError } from '@autoclaw/shared';
import type { AnyMessageContent, MediaType, proto as Proto } from 'baileys';
import type * as BaileysModule from 'baileys';
import type { Dispatcher } from 'undici';
import { INBOUND_FILE_MAX_BYTES } from '../attachments';
import type { InboundAttachment, OutboundFile } from '../types';

type Baileys = typeof BaileysModule;
type Media = Proto.Message.IImageMessage | Proto.Message.IVideoMessage | Proto.Message.IAudioMessage | Proto.Message.IDocumentMessage | Proto.Message.IStickerMessage;

/** Where each media message keeps its file, and the key type its keys are derived for. */
const KINDS = [
  ['imageMessage', 'image'],
  ['videoMessage', 'video'],
  ['audioMessage', 'audio'],
  ['documentMessage', 'document'],
  ['stickerMessage', 'sticker'],
] as const satisfies ReadonlyArray<readonly [keyof Proto.IMessage, MediaType]>;

/** Images WhatsApp shows as photos, videos it plays, and audio it plays (Ogg Opus as a voice note); any other file goes as a document. */
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png']);
const VIDEO_TYPES = new Set(['video/mp4', 'video/3gpp']);
const VOICE_TYPE = 'audio/ogg';
const AUDIO_TYPES = new Set(['audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/amr']);

export interface WhatsAppMedia {
  /** The message's file as an inbound attachment (none for a message without one). */
  attachmentsOf(content: Proto.IMessage | null | undefined): InboundAttachment[];
  /** The message content that sends `file` (its bytes read from the workspace). */
  contentOf(file: OutboundFile): Promise<AnyMessageContent>;
  /** The upload agent baileys is given (null: the default, the system's CAs). */
  readonly uploadAgent: HttpsAgent | null;
  close(): Promise<void>;
}

function why(err: unknown): string {
  const status = (err as { output?: { statusCode?: number } } | null)?.output?.statusCode;
  if (status === 404 || status === 410) return `WhatsApp no longer has the file (${status}: expired); ask the sender to send it again`;
  if (typeof status === 'number') return `the media host answered ${status}`;
  if (AppError.is(err)) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  // OpenSSL's padding check: the key does not open this file.
  if (/bad decrypt|wrong final block/i.test(message)) return 'the file could not be decrypted (damaged or not for us)';
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause ? `the media host could not be reached (${cause.code ?? cause.message ?? message})` : message;
}

export function createWhatsAppMedia(b: Baileys, mediaCa: string | null): WhatsAppMedia {
  const ca = mediaCa ? [...rootCertificates, mediaCa] : null;
  const uploadAgent = ca ? new HttpsAgent({ ca, keepAlive: false }) : null;
  let dispatcher: Dispatcher | null = null;
  /** The download's fetch options: a dispatcher that trusts the CA too (undici is loaded only for one). */
  const fetchOptions = async (): Promise<RequestInit> => {
    if (!ca) return {};
    if (!dispatcher) {
      const undici = await import('undici');
      // undici is CommonJS: in the server bundle its exports come under `default`.
      const { Agent } = 'Agent' in undici && typeof undici.Agent === 'function' ? undici : (undici as unknown as { default: typeof undici }).default;
      dispatcher = new Agent({ connect: { ca } });
    }
    // RequestInit of Node's fetch takes undici's dispatcher; the DOM type does not name it.
    return { dispatcher } as RequestInit;
  };

  const download = async (media: Media, kind: MediaType, signal: AbortSignal): Promise<Uint8Array> => {
    const work = (async () => {
      const stream = await b.downloadContentFromMessage({ mediaKey: media.mediaKey, directPath: media.directPath, url: media.url }, kind, { options: await fetchOptions() });
      const stop = () => stream.destroy(new AppError('TIMEOUT', 'the download took too long'));
      signal.addEventListener('abort', stop, { once: true });
      try {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > INBOUND_FILE_MAX_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `larger than ${INBOUND_FILE_MAX_BYTES / (1024 * 1024)} MB`);
          chunks.push(chunk);
        }
        const bytes = Buffer.concat(chunks);
        const expected = media.fileSha256 ? Buffer.from(media.fileSha256) : null;
        if (expected && !createHash('sha256').update(bytes).digest().equals(expected)) {
          throw new AppError('BAD_REQUEST', 'the file did not match its checksum (damaged on the way); ask the sender to send it again');
        }
        return new Uint8Array(bytes);
      } finally {
        signal.removeEventListener('abort', stop);
        stream.destroy();
      }
    })();
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        if (signal.aborted) return reject(new AppError('TIMEOUT', 'the download took too long'));
        const onAbort = () => reject(new AppError('TIMEOUT', 'the download took too long'));
        signal.addEventListener('abort', onAbort, { once: true });
        work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } catch (err) {
      throw new Error(why(err));
    }
  };

  return {
    uploadAgent,
    attachmentsOf(content) {
      if (!content) return [];
      for (const [field, kind] of KINDS) {
        const media = content[field] as Media | null | undefined;
        if (!media?.mediaKey || !(media.directPath || media.url)) continue;
        const mimeType = media.mimetype?.split(';')[0]?.trim() || undefined;
        const named = 'fileName' in media && media.fileName ? media.fileName : null;
        const size = b.toNumber(media.fileLength);
        return [
          {
            name: named ?? `${kind}.${mimeType?.split('/')[1] ?? 'bin'}`,
            ...(mimeType ? { mimeType } : {}),
            ...(size > 0 ? { size } : {}),
            download: (signal) => download(media, kind, signal),
          },
        ];
      }
      return [];
    },
    async contentOf(file) {
      const bytes = await readFile(file.path);
      const caption = file.caption ? { caption: file.caption } : {};
      const type = file.mimeType;
      if (PHOTO_TYPES.has(type)) return { image: bytes, mimetype: type, ...caption };
      // No preview frame: baileys would make one by running ffmpeg through a shell.
      if (VIDEO_TYPES.has(type)) return { video: bytes, mimetype: type, jpegThumbnail: '', ...caption };
      // An audio message carries no caption.
      if (type === VOICE_TYPE) return { audio: bytes, mimetype: 'audio/ogg; codecs=opus', ptt: true };
      if (AUDIO_TYPES.has(type)) return { audio: bytes, mimetype: type };
      return { document: bytes, mimetype: type, fileName: file.name, ...caption };
    },
    async close() {
      uploadAgent?.destroy();
      await dispatcher?.close();
    },
  };
}
