import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

describe('channel state', () => {
  it('records changes with history, keeps the last error, and refuses bad input without writing', () => {
    const { store, clock } = t;
    expect(store.getChannel('telegram')).toBeNull();
    expect(store.setChannelEnabled('telegram', true)).toMatchObject({ enabled: true, state: 'disabled' });
    clock.advance(10);
    expect(store.setChannelState('telegram', 'reconnecting', null).changed).toBe(true);
    clock.advance(10);
    const up = store.setChannelState('telegram', 'connected', null);
    expect(up.record).toMatchObject({ state: 'connected', since: clock.now(), lastError: null });
    expect(store.setChannelState('telegram', 'connected', null).changed).toBe(false);
    clock.advance(10);
    store.setChannelState('telegram', 'reconnecting', 'no heartbeat');
    clock.advance(10);
    const back = store.setChannelState('telegram', 'connected', null).record;
    expect(back.lastError).toBe('no heartbeat');
    expect(store.channelHistory('telegram', 10).map((h) => [h.state, h.error])).toEqual([
      ['connected', null],
      ['reconnecting', 'no heartbeat'],
      ['connected', null],
      ['reconnecting', null],
    ]);

    const before = store.dump();
    expect(codeOf(() => store.setChannelState('telegram', 'sleeping' as never, null))).toBe('BAD_REQUEST');
    expect(codeOf(() => store.setChannelEnabled('Tele Gram', true))).toBe('BAD_REQUEST');
    expect(codeOf(() => store.setChannelEnabled('telegram', 'yes' as never))).toBe('BAD_REQUEST');
    expect(store.dump()).toBe(before);
  });

  it('queues outbound rows once per key and version, re-arming a changed answer', () => {
    const { store, clock } = t;
    const row = { key: 'final:m1', channel: 'telegram', sessionId: null, kind: 'final', payload: '{"text":"a"}', version: '1' };
    expect(store.enqueueOutbound(row)).toBe(true);
    expect(store.enqueueOutbound(row)).toBe(false);
    const [due] = store.dueOutbound('telegram', clock.now(), 10);
    store.markOutbound(due!.id, { status: 'sent', attempts: 1, nextAt: clock.now(), lastError: null });
    expect(store.dueOutbound('telegram', clock.now(), 10)).toEqual([]);
    expect(store.enqueueOutbound({ ...row, payload: '{"text":"ab"}', version: '2' })).toBe(true);
    expect(store.dueOutbound('telegram', clock.now(), 10)).toEqual([expect.objectContaining({ key: 'final:m1', payload: '{"text":"ab"}', attempts: 0 })]);
    store.markOutbound(due!.id, { status: 'pending', attempts: 1, nextAt: clock.now() + 5_000, lastError: 'rate limited' });
    expect(store.dueOutbound('telegram', clock.now(), 10)).toEqual([]);
    expect(store.nextOutboundAt('telegram')).toBe(clock.now() + 5_000);
  });

  it('pairs a sender once per pending code and approves by code', () => {
    const { store, clock } = t;
    const pairing = { channel: 'telegram', senderId: '42', senderName: 'Mallory', code: 'ABCDEFGH', route: '{"id":"42","kind":"dm"}', expiresAt: clock.now() + 1_000 };
    expect(store.addPairing(pairing, clock.now()).created).toBe(true);
    expect(store.addPairing({ ...pairing, code: 'ZZZZZZZZ' }, clock.now())).toMatchObject({ created: false, pairing: { code: 'ABCDEFGH' } });
    expect(store.listPairings('telegram', clock.now())).toEqual([expect.not.objectContaining({ route: expect.anything() })]);
    expect(store.takePairing('telegram', 'WRONGONE', clock.now())).toBeNull();
    clock.advance(2_000);
    expect(store.takePairing('telegram', 'ABCDEFGH', clock.now())).toBeNull();
    expect(store.addPairing({ ...pairing, code: 'NEWCODE2', expiresAt: clock.now() + 1_000 }, clock.now()).created).toBe(true);
    expect(store.takePairing('telegram', 'NEWCODE2', clock.now())).toMatchObject({ senderId: '42', route: pairing.route });
    store.approveSender('telegram', '42', 'Mallory');
    expect(store.isApprovedSender('telegram', '42')).toBe(true);
    expect(store.isApprovedSender('discord', '42')).toBe(false);
    expect(store.revokeSender('telegram', '42')).toBe(true);
    expect(store.listApprovedSenders('telegram')).toEqual([]);
  });
});
