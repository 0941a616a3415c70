import { describe, expect, it } from 'vitest';
import type { TicketPairRequest } from '@autoclaw/shared';
import type { DeviceIdentity } from './device-identity';
import { PairError } from './gateway-http';
import { redeemTicket } from './ticket-pairing';

const identity: DeviceIdentity = {
  deviceId: 'dev-000000000000000001',
  publicKey: 'A'.repeat(43),
  signChallenge: async (nonce, timestamp) => `sig(${nonce},${timestamp})`,
};

/** Answers /auth/challenge and /auth/ticket like a gateway would, recording the ticket request. */
function gatewayAnswering(ticketStatus: number, ticketBody: unknown) {
  const sent: TicketPairRequest[] = [];
  const fetchDouble: typeof fetch = async (input, init) => {
    if (input === '/auth/challenge') return Response.json({ nonce: 'nonce-abcdefghijklmnop', expiresAt: 2 });
    if (input === '/auth/ticket' && init?.method === 'POST') {
      sent.push(JSON.parse(String(init.body)) as TicketPairRequest);
      return Response.json(ticketBody, { status: ticketStatus });
    }
    return Response.json({ error: { code: 'NOT_FOUND', message: 'not found' } }, { status: 404 });
  };
  return { sent, fetch: fetchDouble };
}

describe('redeemTicket', () => {
  it('answers a fresh challenge with the ticket and this device key', async () => {
    const gateway = gatewayAnswering(200, { deviceId: identity.deviceId });
    await expect(redeemTicket(gateway.fetch, identity, 'the.ticket', () => 1234)).resolves.toEqual({ deviceId: identity.deviceId });
    expect(gateway.sent).toEqual([
      { ticket: 'the.ticket', publicKey: identity.publicKey, nonce: 'nonce-abcdefghijklmnop', timestamp: 1234, signature: 'sig(nonce-abcdefghijklmnop,1234)' },
    ]);
  });

  it('tells a revoked key apart from other refusals', async () => {
    const revoked = gatewayAnswering(403, { error: { code: 'FORBIDDEN', message: 'this device key was revoked; make a new key to pair again' } });
    const error = await redeemTicket(revoked.fetch, identity, 't', () => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PairError);
    expect((error as PairError).failure.kind).toBe('revoked');

    const expired = gatewayAnswering(401, { error: { code: 'UNAUTHORIZED', message: 'ticket has expired; ask the manager for a new one' } });
    const other = await redeemTicket(expired.fetch, identity, 't', () => 1).catch((e: unknown) => e);
    expect((other as PairError).failure).toEqual({ kind: 'other', message: 'Pairing failed: ticket has expired; ask the manager for a new one' });
  });

  it('refuses an answer for another device', async () => {
    const gateway = gatewayAnswering(200, { deviceId: 'someone-else' });
    await expect(redeemTicket(gateway.fetch, identity, 't', () => 1)).rejects.toThrow(/another device id/);
  });

  it('says so when the gateway cannot be reached', async () => {
    const down: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    const error = await redeemTicket(down, identity, 't', () => 1).catch((e: unknown) => e);
    expect((error as PairError).failure.kind).toBe('unreachable');
  });
});
