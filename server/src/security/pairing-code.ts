/**
 * One-time pairing codes: 8 characters of Crockford's base32 (40 bits),
 * shown as `ABCD-EFGH`. Only the SHA-256 of a code is stored; it expires
 * after PAIRING_CODE_TTL_MS and is consumed by its first successful use.
 * Typing is forgiving: case, dashes, spaces and the look-alikes O/I/L
 * do not matter.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DeviceRole } from '@autoclaw/shared';
import type { Store } from '../store';

export const PAIRING_CODE_TTL_MS = 10 * 60_000;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 8;

export interface IssuedPairingCode {
  code: string;
  expiresAt: number;
}

export function generatePairingCode(): string {
  const bytes = randomBytes(CODE_CHARS);
  let out = '';
  // 32 symbols: the low 5 bits of each byte are uniform.
  for (const b of bytes) out += ALPHABET[b & 31];
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

/** The canonical form of a typed code, or null when it cannot be one. */
export function normalizePairingCode(input: string): string | null {
  if (input.length > 32) return null;
  const code = input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (code.length !== CODE_CHARS) return null;
  for (const ch of code) if (!ALPHABET.includes(ch)) return null;
  return code;
}

export function hashPairingCode(normalized: string): string {
  return createHash('sha256').update(`autoclaw-pairing/v1\n${normalized}`).digest('hex');
}

/**
 * Makes a fresh code, stores its hash and returns the code (shown once, never
 * stored). `role` is the role the device it pairs gets; without one, pairing
 * decides (see roleForPairing).
 */
export function issuePairingCode(store: Store, now: number, opts: { ttlMs?: number; role?: DeviceRole } = {}): IssuedPairingCode {
  const code = generatePairingCode();
  const normalized = normalizePairingCode(code);
  if (normalized === null) throw new Error('generated an invalid pairing code');
  const expiresAt = now + (opts.ttlMs ?? PAIRING_CODE_TTL_MS);
  store.addPairingCode(hashPairingCode(normalized), expiresAt, opts.role ?? null);
  return { code, expiresAt };
}

/** Consumes a typed code; null when it is malformed, unknown, used or expired, else the role it carries (null: decide). */
export function consumePairingCode(store: Store, input: string, now: number): { role: DeviceRole | null } | null {
  const normalized = normalizePairingCode(input);
  if (normalized === null) return null;
  return store.consumePairingCode(hashPairingCode(normalized), now);
}
