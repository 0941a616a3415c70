/**
 * Record ids: UUIDv7 (RFC 9562) — 48 bits of milliseconds, then 74 random
 * bits. Ids made close in time sort close together, so inserting a message
 * touches the same index page as the previous one instead of a random page:
 * fewer pages written to the WAL per commit. Still unguessable enough for ids
 * (they are never secrets) and unique without coordination.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 16 * 256;

export function createIdMaker(now: () => number): () => string {
  // Random bytes are drawn in blocks: one syscall per 256 ids.
  const pool = Buffer.alloc(POOL_BYTES);
  let offset = POOL_BYTES;
  const bytes = Buffer.alloc(16);

  return () => {
    if (offset + 10 > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const ms = Math.max(0, Math.floor(now()));
    bytes.writeUIntBE(ms % 2 ** 48, 0, 6);
    pool.copy(bytes, 6, offset, offset + 10);
    offset += 10;
    bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70; // version 7
    bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // variant 10
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
