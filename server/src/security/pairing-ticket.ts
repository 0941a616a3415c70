/**
 * Pairing tickets on the wire (see shared/ticket.ts): the manager encodes and
 * signs them, the gateway decodes and checks the manager's signature. Pure
 * functions over node:crypto; redemption (nonce, jti, registration) is in
 * ticket-auth.ts.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ticketSigningInput } from '@autoclaw/shared';
import type { TicketPayload } from '@autoclaw/shared';
import { verifyPayload } from './device-keys';

/** Longest ticket accepted (a real one is ~500 characters). */
export const TICKET_MAX_CHARS = 2048;

const B64URL = /^[A-Za-z0-9_-]+$/;

export const TicketPayloadSchema = z
  .object({
    v: z.literal(1),
    jti: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
    instanceId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    devicePublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    deviceName: z.string().trim().min(1).max(80).regex(/^\P{Cc}+$/u),
    kind: z.enum(['client', 'manager']),
    role: z.enum(['owner', 'chat']).optional(),
    iat: z.number().int().nonnegative(),
    exp: z.number().int().nonnegative(),
  })
  .strict();

/** `base64url(JSON(payload)) + "." + base64url(signature)`, signed by `sign` over ticketSigningInput. */
export function encodeTicket(payload: TicketPayload, sign: (input: string) => string): string {
  const encoded = Buffer.from(JSON.stringify(TicketPayloadSchema.parse(payload)), 'utf8').toString('base64url');
  return `${encoded}.${sign(ticketSigningInput(encoded))}`;
}

export interface DecodedTicket {
  payload: TicketPayload;
  encoded: string;
  signature: string;
}

/** Splits and parses a ticket WITHOUT checking its signature; null when malformed. */
export function decodeTicket(ticket: unknown): DecodedTicket | null {
  if (typeof ticket !== 'string' || ticket.length > TICKET_MAX_CHARS) return null;
  const parts = ticket.split('.');
  if (parts.length !== 2) return null;
  const [encoded, signature] = parts as [string, string];
  if (!B64URL.test(encoded) || !B64URL.test(signature)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = TicketPayloadSchema.safeParse(json);
  return parsed.success ? { payload: parsed.data, encoded, signature } : null;
}

/** True when the manager's key signed this ticket. */
export function verifyTicketSignature(managerKey: KeyObject, ticket: DecodedTicket): boolean {
  return verifyPayload(managerKey, ticketSigningInput(ticket.encoded), ticket.signature);
}
