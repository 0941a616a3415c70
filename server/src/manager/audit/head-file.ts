/**
 * The audit log's signed head, `DIR/audit-head.json`, kept apart from the
 * table: `{count, hash}` of the newest entry the manager vouches for, signed
 * with its Ed25519 key. Written atomically (temp file, fsync, rename).
 */
import { readFileSync } from 'node:fs';
import { writeSecretFile } from '../../security';
import { verifyManagerSignature } from '../keys';
import { headSigningInput } from './canonical';

export interface AuditHead {
  v: 1;
  count: number;
  hash: string;
  /** base64url Ed25519 signature of headSigningInput(count, hash). */
  signature: string;
  at: number;
}

export type HeadRead =
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'ok'; head: AuditHead };

/** A head from its JSON text (`where` names it in reasons). */
export function parseHead(text: string, where: string): HeadRead {
  try {
    const v = JSON.parse(text) as Partial<AuditHead>;
    if (
      v.v !== 1 ||
      typeof v.count !== 'number' ||
      !Number.isInteger(v.count) ||
      v.count < 0 ||
      typeof v.hash !== 'string' ||
      typeof v.signature !== 'string' ||
      typeof v.at !== 'number'
    ) {
      return { kind: 'unreadable', reason: `${where} is not an audit head` };
    }
    return { kind: 'ok', head: { v: 1, count: v.count, hash: v.hash, signature: v.signature, at: v.at } };
  } catch {
    return { kind: 'unreadable', reason: `${where} is not JSON` };
  }
}

export function signHead(fields: { count: number; hash: string; at: number }, sign: (payload: string) => string): AuditHead {
  return { v: 1, count: fields.count, hash: fields.hash, at: fields.at, signature: sign(headSigningInput(fields.count, fields.hash)) };
}

export function readHeadFile(path: string): HeadRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: `cannot read ${path}` };
  }
  return parseHead(text, path);
}

export function headSignatureValid(head: AuditHead, publicKey: string): boolean {
  return verifyManagerSignature(publicKey, headSigningInput(head.count, head.hash), head.signature);
}

export function writeHeadFile(path: string, fields: { count: number; hash: string; at: number }, sign: (payload: string) => string): AuditHead {
  const head = signHead(fields, sign);
  writeSecretFile(path, `${JSON.stringify(head)}\n`);
  return head;
}
