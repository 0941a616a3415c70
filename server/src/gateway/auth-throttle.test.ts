/**
 * Failed handshakes slow down whoever fails, never a client that proves who
 * it is (issue 8, item 2): sockets that open and close without trying are no
 * failures; bad proofs earn growing delays and a typed RATE_LIMITED with
 * retryAfterMs; a paired device still connects at once from the same
 * address; pairing-code guesses stay slowed per address.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import { generateDeviceKey, issuePairingCode } from '../security';
import { openAuthedSocket, openRawSocket, pairBody, postJson, signedParams, startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function whoamiWorks(gw: TestGateway, key = gw.addDevice()): Promise<boolean> {
  const socket = await openAuthedSocket(gw.url, key);
  const answer = await socket.call('query', 'auth.whoami').catch(() => null);
  socket.ws.close();
  await socket.closed;
  return answer !== null && 'result' in answer;
}

async function badProof(gw: TestGateway): Promise<{ code: number; reason: string }> {
  const socket = await openRawSocket(gw.wsUrl);
  socket.send({ method: 'connectionParams', data: signedParams(generateDeviceKey(), 'made-up-nonce') });
  return socket.closed;
}

describe('the handshake throttle', () => {
  it('does not count sockets that open and close without trying: a paired device still connects', async () => {
    t = await startTestGateway();
    for (let i = 0; i < 12; i++) {
      const socket = await openRawSocket(t.wsUrl);
      socket.ws.close();
      await socket.closed;
    }
    expect(await whoamiWorks(t)).toBe(true);
  });

  it('slows an address after bad proofs (4429 with retryAfterMs) but lets a valid device proof through at once', async () => {
    t = await startTestGateway();
    const closes: Array<{ code: number; reason: string }> = [];
    for (let i = 0; i < 10; i++) closes.push(await badProof(t));
    expect(closes[0]).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    expect(closes.at(-1)).toMatchObject({ code: WS_CLOSE_RATE_LIMITED });
    expect(closes.at(-1)?.reason).toMatch(/retry after \d+ ms/);

    // The same address, while slowed: a paired device proves who it is and gets in.
    expect(await whoamiWorks(t)).toBe(true);

    // The Node client of a failing device gets a typed RATE_LIMITED with the wait.
    const conn = t.connect(generateDeviceKey());
    const err = await conn.call(conn.client.auth.whoami.query()).catch((e: unknown) => e);
    expect(AppError.is(err, 'RATE_LIMITED')).toBe(true);
    expect((err as AppError).details?.['retryAfterMs']).toBeGreaterThan(0);
  });

  it('bounds sockets that never authenticate per address by closing the oldest, not by refusing devices', async () => {
    t = await startTestGateway({ options: { maxUnauthenticatedSockets: 4 } });
    const idle = [];
    for (let i = 0; i < 4; i++) idle.push(await openRawSocket(t.wsUrl));
    expect(await whoamiWorks(t)).toBe(true);
    expect(await idle[0]!.closed).toMatchObject({ code: WS_CLOSE_RATE_LIMITED });
    for (const s of idle.slice(1)) s.ws.close();
  });
});

describe('the pairing throttle', () => {
  it('slows pairing-code guesses per address with growing delays, even for the right code', async () => {
    // A clock that moves only when the test moves it: the waits are exact.
    const start = Date.now();
    let offset = 0;
    const now = () => start + offset;
    t = await startTestGateway({ options: { now } });
    const gw = t;
    const guess = async (code: string) => postJson(`${gw.url}/auth/pair`, await pairBody(gw.url, generateDeviceKey(), code, now()));
    for (let i = 0; i < 5; i++) expect((await guess('ZZZZ-ZZZZ')).status).toBe(401);
    // The sixth failure still reaches the check; from then on the address waits.
    expect((await guess('ZZZZ-ZZZZ')).status).toBe(401);
    const { code } = issuePairingCode(t.gateway.store, now());
    const slowed = await guess(code);
    expect(slowed.status).toBe(429);
    expect(slowed.headers.get('retry-after')).toBe('1');
    const body = (await slowed.json()) as { error: { code: string; details?: { retryAfterMs?: number } } };
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 1_000 } });

    offset += 1_000;
    expect((await guess('ZZZZ-ZZZZ')).status).toBe(401);
    const longer = (await (await guess(code)).json()) as { error: { details?: { retryAfterMs?: number } } };
    expect(longer.error.details?.retryAfterMs).toBe(2_000);

    offset += 2_000;
    expect((await guess(code)).status).toBe(200);
  });
});
