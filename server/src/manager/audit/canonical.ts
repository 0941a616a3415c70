/**
 * The audit log's canonical encoding: JSON with object keys sorted at every
 * depth and no insignificant whitespace, so the same entry always hashes the
 * same on any machine. Entry hash = SHA-256 over a context line and the
 * canonical array [seq, at, actor, action, target, details, prevHash].
 */
import { createHash } from 'node:crypto';

export const AUDIT_CONTEXT = 'autoclaw-audit/v1';
export const ENTRY_SIGNATURE_CONTEXT = 'autoclaw-audit-entry/v1';
export const HEAD_SIGNATURE_CONTEXT = 'autoclaw-audit-head/v1';
/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Canonical JSON of a JSON value; non-JSON values (undefined, functions, NaN) are refused. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('audit details must be JSON (no NaN or Infinity)');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`audit details must be JSON (got ${typeof value})`);
}

export interface HashedFields {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

export function entryHash(e: HashedFields): string {
  const body = canonicalJson([e.seq, e.at, e.actor, e.action, e.target, e.details, e.prevHash]);
  return createHash('sha256').update(`${AUDIT_CONTEXT}\n${body}`).digest('hex');
}

export function entrySigningInput(seq: number, hash: string): string {
  return `${ENTRY_SIGNATURE_CONTEXT}\n${seq}\n${hash}`;
}

export function headSigningInput(count: number, hash: string): string {
  return `${HEAD_SIGNATURE_CONTEXT}\n${count}\n${hash}`;
}
