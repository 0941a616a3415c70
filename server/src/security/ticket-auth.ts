/**
 * POST /auth/ticket: a device pairs with a manager-signed ticket instead of a
 * one-time code. Checked, in order: the request's shape, the ticket's form
 * and the manager's signature, expiry, the instance it is for, the device key
 * it is bound to (a `manager` ticket only for the manager's own key), the
 * challenge and the device's signature, then its single use (the jti is
 * remembered in the store). Every refusal is an AppError and writes nothing.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AppError, AUTH_MAX_SKEW_MS, authPayload } from '@autoclaw/shared';
import type { DeviceAuthDeps } from './device-auth';
import { deviceIdFromPublicKey, parsePublicKey, verifyPayload } from './device-keys';
import { decodeTicket, TICKET_MAX_CHARS, verifyTicketSignature } from './pairing-ticket';

export interface TicketAuthDeps extends DeviceAuthDeps {
  /** Set on managed instances only; without both, tickets are refused. */
  managerPublicKey: string | undefined;
  instanceId: string | undefined;
}

export const TicketRequestSchema = z
  .object({
    ticket: z.string().min(1).max(TICKET_MAX_CHARS),
    publicKey: z.string().min(1).max(64),
    nonce: z.string().min(1).max(128),
    timestamp: z.number().int().nonnegative(),
    signature: z.string().min(1).max(128),
  })
  .strict();

export interface TicketResult {
  deviceId: string;
  kind: 'client' | 'manager';
}

function unauthorized(message: string): AppError {
  return new AppError('UNAUTHORIZED', message);
}

function managerKeyOf(deps: TicketAuthDeps): { key: KeyObject; publicKey: string; instanceId: string } {
  const key = deps.managerPublicKey === undefined ? null : parsePublicKey(deps.managerPublicKey);
  if (!key || deps.managerPublicKey === undefined || deps.instanceId === undefined) {
    throw new AppError('NOT_CONFIGURED', 'this gateway is not managed; pair it with a one-time code instead');
  }
  return { key, publicKey: deps.managerPublicKey, instanceId: deps.instanceId };
}

export function redeemTicket(deps: TicketAuthDeps, body: unknown): TicketResult {
  const manager = managerKeyOf(deps);
  const parsed = TicketRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new AppError('BAD_REQUEST', `invalid ticket request: ${where}${issue?.message ?? 'malformed'}`);
  }
  const req = parsed.data;
  // The nonce is spent whatever happens next, so a refused request cannot be replayed.
  const nonceOk = deps.nonces.consume(req.nonce);
  const deviceKey = parsePublicKey(req.publicKey);
  if (!deviceKey) throw new AppError('BAD_REQUEST', 'publicKey is not a base64url raw Ed25519 public key');

  const ticket = decodeTicket(req.ticket);
  if (!ticket) throw unauthorized('ticket is malformed');
  if (!verifyTicketSignature(manager.key, ticket)) throw unauthorized('ticket is not signed by this instance\'s manager');
  const t = ticket.payload;
  const now = deps.now();
  if (t.exp <= now) throw unauthorized('ticket has expired; ask the manager for a new one');
  if (t.iat > now + AUTH_MAX_SKEW_MS || t.exp <= t.iat) throw unauthorized('ticket times are not valid');
  if (t.instanceId !== manager.instanceId) throw unauthorized('ticket is for another instance');
  if (t.devicePublicKey !== req.publicKey) throw unauthorized('ticket is bound to another device key');
  if (t.kind === 'manager' && req.publicKey !== manager.publicKey) throw unauthorized('a manager ticket is only for the manager\'s own key');

  const deviceId = deviceIdFromPublicKey(req.publicKey);
  if (!nonceOk) throw unauthorized('challenge is unknown, expired or already used');
  if (Math.abs(now - req.timestamp) > AUTH_MAX_SKEW_MS) throw unauthorized('timestamp is too far from the gateway clock');
  if (!verifyPayload(deviceKey, authPayload(req.nonce, deviceId, req.timestamp), req.signature)) {
    throw unauthorized('signature does not match the public key');
  }
  const existing = deps.store.getDevice(deviceId);
  if (existing?.revokedAt != null) throw new AppError('FORBIDDEN', 'this device key was revoked; make a new key to pair again');
  if (existing && existing.kind !== t.kind) throw new AppError('CONFLICT', `this key is already paired as a ${existing.kind} device`);
  // One transaction: the ticket is spent exactly when the device is registered.
  // A manager ticket is always owner; a client ticket says so unless it names `chat`.
  const role = t.kind === 'manager' ? 'owner' : (t.role ?? 'owner');
  if (!deps.store.useTicket(t.jti, t.exp, { id: deviceId, name: t.deviceName, kind: t.kind, role, publicKey: req.publicKey })) {
    throw unauthorized('ticket was already used');
  }
  return { deviceId, kind: t.kind };
}
