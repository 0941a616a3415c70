/**
 * Automatic pairing in the manager UI: the manager signs a single-use
 * ticket bound to this device's public key (instances.pairDevice); the
 * device answers a fresh gateway challenge with its signature and the ticket
 * at the gateway's POST /auth/ticket, which registers it. The gateway
 * address is the one the manager gave with the ticket.
 */
import type { TicketPairRequest } from '@autoclaw/shared';
import type { DeviceIdentity } from './device-identity';
import { PairError, classify, fetchChallenge } from './gateway-http';

/** Redeems `ticket` for `identity` at the gateway that `gatewayFetch` reaches (see fetchAt). */
export async function redeemTicket(gatewayFetch: typeof fetch, identity: DeviceIdentity, ticket: string, now: () => number): Promise<{ deviceId: string }> {
  const { nonce } = await fetchChallenge(gatewayFetch);
  const timestamp = now();
  const body: TicketPairRequest = {
    ticket,
    publicKey: identity.publicKey,
    nonce,
    timestamp,
    signature: await identity.signChallenge(nonce, timestamp),
  };
  let response: Response;
  try {
    response = await gatewayFetch('/auth/ticket', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new PairError({ kind: 'unreachable', message: 'Cannot reach your assistant to pair this device.' });
  }
  const answer: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = typeof answer === 'object' && answer !== null && 'error' in answer ? (answer.error as { code?: unknown; message?: unknown }) : {};
    throw new PairError(classify(response.status, String(error.code ?? `HTTP_${response.status}`), String(error.message ?? response.statusText)));
  }
  if (typeof answer !== 'object' || answer === null || !('deviceId' in answer) || answer.deviceId !== identity.deviceId) {
    throw new PairError({ kind: 'other', message: 'The gateway answered the pairing with another device id.' });
  }
  return { deviceId: identity.deviceId };
}
