/**
 * Opaque secrets handed to people and clients (session tokens, setup links,
 * invite codes): 256 random bits, base64url, with a prefix naming their kind.
 * Only their SHA-256 is stored; with that much entropy a slow hash adds nothing.
 */
import { createHash, randomBytes } from 'node:crypto';

export type TokenKind = 'acs' | 'stp' | 'inv';

export function newToken(kind: TokenKind): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A short random id for rows (users, sessions, invites). */
export function newId(): string {
  return randomBytes(12).toString('base64url');
}
