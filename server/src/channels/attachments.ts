/**
 * Files that arrive with a platform message are stored in the workspace
 * under `channels/<channel>/<conversation>/` and mentioned in the message
 * text, so the agent sees them (and its workspace tools can read them).
 */
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { InboundAttachment } from './types';

/** Largest file fetched from a platform. */
export const INBOUND_FILE_MAX_BYTES = 20 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 60_000;

/** A file or folder name without path separators, control characters or leading dots. */
export function safeName(name: string, fallback: string): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[\p{Cc}/\\:*?"<>|]+/gu, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 100);
  return cleaned.length > 0 ? cleaned : fallback;
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export interface SavedAttachments {
  /** Lines to append to the message text. */
  mentions: string[];
  /** For the sender: each file that did not arrive, and why ("photo.jpg: larger than 20 MB"). */
  missing: string[];
}

/**
 * Downloads and stores each attachment (one at a time, each with a time
 * limit). A file that is too large or fails to download is mentioned as such.
 */
export async function saveAttachments(opts: {
  workspaceDir: string;
  channel: string;
  conversationId: string;
  platformId: string;
  attachments: readonly InboundAttachment[];
  signal: AbortSignal;
  /** Removes secrets (tokens in download URLs) from error text. */
  redact: (text: string) => string;
}): Promise<SavedAttachments> {
  const folder = join('channels', opts.channel, safeName(opts.conversationId, 'conversation'));
  const mentions: string[] = [];
  const missing: string[] = [];
  for (const [i, attachment] of opts.attachments.entries()) {
    const name = `${safeName(opts.platformId, 'message')}-${i + 1}-${safeName(attachment.name, 'file')}`;
    const relative = join(folder, name);
    const kind = attachment.mimeType ? `${attachment.mimeType}, ` : '';
    if (attachment.size !== undefined && attachment.size > INBOUND_FILE_MAX_BYTES) {
      mentions.push(`[attachment ${attachment.name} (${kind}${sizeText(attachment.size)}) not saved: larger than ${sizeText(INBOUND_FILE_MAX_BYTES)}]`);
      missing.push(`${attachment.name}: ${sizeText(attachment.size)}, larger than the ${sizeText(INBOUND_FILE_MAX_BYTES)} I take`);
      continue;
    }
    try {
      const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
      const bytes = await attachment.download(signal);
      if (bytes.byteLength > INBOUND_FILE_MAX_BYTES) throw new Error(`larger than ${sizeText(INBOUND_FILE_MAX_BYTES)}`);
      await mkdir(join(opts.workspaceDir, folder), { recursive: true });
      const handle = await open(join(opts.workspaceDir, relative), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
      mentions.push(`[attached file: ${relative} (${kind}${sizeText(bytes.byteLength)})]`);
    } catch (err) {
      const why = opts.redact(err instanceof Error ? err.message : String(err));
      mentions.push(`[attachment ${attachment.name} could not be fetched: ${why.slice(0, 120)}]`);
      missing.push(`${attachment.name}: ${why.slice(0, 200)}`);
    }
  }
  return { mentions, missing };
}
