/**
 * Pairing tickets: the manager signs, with its Ed25519 key, a short-lived,
 * single-use ticket bound to ONE device's public key and ONE instance. The
 * gateway verifies it with the manager's public key (given at provisioning),
 * registers the device, and remembers the ticket id so it is never reused.
 *
 * Wire form: `base64url(JSON(TicketPayload)) + "." + base64url(signature)`,
 * the signature over `TICKET_CONTEXT + "\n" + <first part>`.
 */
export const TICKET_CONTEXT = 'autoclaw-ticket/v1';
/** How long a ticket is valid after it is issued. */
export const TICKET_TTL_MS = 5 * 60_000;

export interface TicketPayload {
  v: 1;
  /** Unique ticket id (single use). */
  jti: string;
  instanceId: string;
  /** base64url raw Ed25519 public key of the device the ticket is for. */
  devicePublicKey: string;
  deviceName: string;
  /** Device kind the gateway registers: a user's device or the manager itself. */
  kind: 'client' | 'manager';
  /** The device's role (owner when absent); a manager ticket is always owner. */
  role?: 'owner' | 'chat';
  /** Issued at / expires at, ms since epoch. */
  iat: number;
  exp: number;
}

export function ticketSigningInput(encodedPayload: string): string {
  return `${TICKET_CONTEXT}\n${encodedPayload}`;
}
