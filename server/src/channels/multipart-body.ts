/** A multipart/form-data body built by hand (Node's FormData would load its whole fetch stack). */
import { randomBytes } from 'node:crypto';

export type FormPart = { name: string; value: string; type?: string } | { name: string; filename: string; data: Uint8Array; type?: string };

export function multipartBody(parts: readonly FormPart[]): { body: Buffer; type: string } {
  const boundary = `----autoclaw${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  const safe = (text: string) => text.replace(/["\r\n]/g, '_');
  for (const part of parts) {
    if ('filename' in part) {
      chunks.push(
        Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${safe(part.name)}"; filename="${safe(part.filename)}"\r\ncontent-type: ${part.type ?? 'application/octet-stream'}\r\n\r\n`),
        Buffer.from(part.data),
        Buffer.from('\r\n'),
      );
    } else {
      const type = part.type ? `content-type: ${part.type}\r\n` : '';
      chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${safe(part.name)}"\r\n${type}\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}
