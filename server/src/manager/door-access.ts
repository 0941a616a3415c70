/**
 * Who may go through the one door: only the instance's owner, proved BEFORE
 * anything is forwarded or woken (a stranger can neither wake nor probe
 * someone else's instance). Two proofs are accepted:
 * * a door pass (`door_pass` query parameter) from instances.doorPass — a
 *   browser's WebSocket and <img> cannot send headers, and the session token
 *   itself must not travel in URLs, so the pass is short-lived (2 minutes,
 *   checked at connect; an open tunnel stays open), bound to one instance
 *   and one session, and signed with a key derived from the master key so
 *   every replica checks it without a lookup of its own;
 * * `Authorization: Bearer <session token>` (the CLI and other programs).
 * Either way the session must still be live and its user the instance's
 * owner. Refusals are counted per address in the database like failed
 * sign-ins: whoever keeps failing waits longer; a caller with a good proof
 * is never held back.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { DoorPass } from '@autoclaw/shared';
import type { AccountService } from './accounts';

export const DOOR_PASS_TTL_MS = 2 * 60_000;
const PASS_MAX_CHARS = 600;

export interface DoorProof {
  pass: string | null;
  bearer: string | null;
  /** The caller's address (the limiter counts refusals per address). */
  remote: string;
}

export interface DoorAccess {
  /** A pass for the owner's session to `instanceId` (the caller checked ownership). */
  issue(instanceId: string, sessionId: string): DoorPass;
  /** Resolves when the proof is the owner's; UNAUTHORIZED, FORBIDDEN, NOT_FOUND or RATE_LIMITED otherwise. */
  check(instanceId: string, proof: DoorProof): Promise<void>;
}

export interface DoorAccessOptions {
  masterKey: Buffer;
  accounts: Pick<AccountService, 'authenticate' | 'checkSession' | 'addressLimiter'>;
  /** The owner's e-mail (lowercase) of an instance, or null when there is none. */
  ownerOf(instanceId: string): Promise<string | null>;
  now: () => number;
}

interface PassBody {
  v: 1;
  /** Instance id. */
  i: string;
  /** Session id. */
  s: string;
  /** Expires at (ms). */
  e: number;
}

function isPassBody(value: unknown): value is PassBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v['v'] === 1 && typeof v['i'] === 'string' && typeof v['s'] === 'string' && typeof v['e'] === 'number';
}

export function createDoorAccess(opts: DoorAccessOptions): DoorAccess {
  const key = Buffer.from(hkdfSync('sha256', opts.masterKey, Buffer.alloc(0), 'autoclaw door pass v1', 32));
  const limiter = opts.accounts.addressLimiter('door');
  const mac = (encoded: string) => createHmac('sha256', key).update(encoded).digest();

  function readPass(pass: string): PassBody | null {
    if (pass.length > PASS_MAX_CHARS) return null;
    const [encoded, signature, extra] = pass.split('.');
    if (encoded === undefined || signature === undefined || extra !== undefined) return null;
    const given = Buffer.from(signature, 'base64url');
    const expected = mac(encoded);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const body: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
      return isPassBody(body) ? body : null;
    } catch {
      return null;
    }
  }

  /** The e-mail of the proof's user, or why not. */
  async function whoIs(instanceId: string, proof: DoorProof): Promise<string> {
    if (proof.pass !== null) {
      const body = readPass(proof.pass);
      if (!body) throw new AppError('UNAUTHORIZED', 'the door pass is not valid; ask the manager for a new one');
      if (body.e <= opts.now()) throw new AppError('UNAUTHORIZED', 'the door pass expired; ask the manager for a new one');
      if (body.i !== instanceId) throw new AppError('FORBIDDEN', 'this door pass is for another instance');
      return (await opts.accounts.checkSession(body.s)).user.email;
    }
    if (proof.bearer !== null) return (await opts.accounts.authenticate(proof.bearer)).user.email;
    throw new AppError('UNAUTHORIZED', 'sign in to the manager first: the door needs a door pass or a session token');
  }

  async function judge(instanceId: string, proof: DoorProof): Promise<void> {
    const email = await whoIs(instanceId, proof);
    const owner = await opts.ownerOf(instanceId);
    if (owner === null) throw new AppError('NOT_FOUND', 'no such instance');
    if (owner !== email.toLowerCase()) throw new AppError('FORBIDDEN', "this account does not own that instance");
  }

  return {
    issue(instanceId, sessionId) {
      const expiresAt = opts.now() + DOOR_PASS_TTL_MS;
      const body: PassBody = { v: 1, i: instanceId, s: sessionId, e: expiresAt };
      const encoded = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
      return { pass: `${encoded}.${mac(encoded).toString('base64url')}`, expiresAt };
    },
    async check(instanceId, proof) {
      try {
        await judge(instanceId, proof);
      } catch (err) {
        const refused = AppError.is(err) && (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN');
        if (!refused) throw err;
        // Slow whoever keeps failing (a wait already running answers RATE_LIMITED instead).
        await limiter.check(proof.remote);
        await limiter.failed(proof.remote);
        throw err;
      }
    },
  };
}
