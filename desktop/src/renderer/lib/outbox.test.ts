import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, newClientId, type KeyValueStorage, type OutboxItem } from './outbox';
import { OutboxSender } from './outbox-sender';

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

function item(clientId: string, sessionId: string | null = 's1'): OutboxItem {
  return { clientId, sessionId, text: `text ${clientId}`, createdAt: 1, error: null };
}

/** A gateway stand-in at the call boundary: records sends, dedupes by clientId like the real one. */
function fakeGateway() {
  const stored = new Map<string, { sessionId: string; text: string }>();
  const calls: string[] = [];
  let failNext: Error | null = null;
  return {
    stored,
    calls,
    failNextWith(error: Error) {
      failNext = error;
    },
    async send(input: { sessionId: string; clientId: string; text: string }) {
      calls.push(input.clientId);
      if (failNext) {
        const error = failNext;
        failNext = null;
        throw error;
      }
      if (!stored.has(input.clientId)) stored.set(input.clientId, { sessionId: input.sessionId, text: input.text });
    },
  };
}

const timers = new Set<ReturnType<typeof setTimeout>>();
afterEach(() => {
  for (const t of timers) clearTimeout(t);
  timers.clear();
});

function sender(outbox: Outbox, gateway: ReturnType<typeof fakeGateway>, ensure = async () => 'main-id') {
  return new OutboxSender({
    outbox,
    send: (input) => gateway.send(input),
    ensureDefaultSession: ensure,
    setTimer: (run, ms) => {
      const t = setTimeout(run, ms);
      timers.add(t);
      return t;
    },
    clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
    retryMs: 5,
  });
}

describe('Outbox', () => {
  it('persists items so a reload sees them', () => {
    const storage = memoryStorage();
    const outbox = new Outbox(storage);
    outbox.add(item('aaaaaaaa1'));
    outbox.add(item('aaaaaaaa1')); // same clientId: kept once
    outbox.add(item('aaaaaaaa2'));
    outbox.remove('aaaaaaaa1');
    expect(new Outbox(storage).items().map((i) => i.clientId)).toEqual(['aaaaaaaa2']);
  });

  it('ignores corrupt storage instead of crashing', () => {
    const storage = memoryStorage();
    storage.setItem('autoclaw.outbox.v1', '{not json');
    expect(new Outbox(storage).items()).toEqual([]);
    storage.setItem('autoclaw.outbox.v1', JSON.stringify([{ clientId: 1 }, item('aaaaaaaa3')]));
    expect(new Outbox(storage).items().map((i) => i.clientId)).toEqual(['aaaaaaaa3']);
  });

  it('makes url-safe client ids the gateway accepts', () => {
    const id = newClientId((bytes) => globalThis.crypto.getRandomValues(bytes));
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('OutboxSender', () => {
  it('sends in order and removes only acknowledged items', async () => {
    const outbox = new Outbox(memoryStorage());
    const gateway = fakeGateway();
    outbox.add(item('aaaaaaaa1'));
    outbox.add(item('aaaaaaaa2'));
    await sender(outbox, gateway).flush();
    expect(gateway.calls).toEqual(['aaaaaaaa1', 'aaaaaaaa2']);
    expect(outbox.items()).toEqual([]);
  });

  it('keeps an item whose acknowledgement was lost and delivers it once on the next flush', async () => {
    const outbox = new Outbox(memoryStorage());
    const gateway = fakeGateway();
    const s = sender(outbox, gateway);
    outbox.add(item('aaaaaaaa1'));
    outbox.add(item('aaaaaaaa2'));
    gateway.failNextWith(new Error('WebSocket closed'));
    await s.flush();
    expect(outbox.items().map((i) => i.clientId)).toEqual(['aaaaaaaa1', 'aaaaaaaa2']);
    await s.flush(); // reconnect
    expect(outbox.items()).toEqual([]);
    expect([...gateway.stored.keys()]).toEqual(['aaaaaaaa1', 'aaaaaaaa2']);
    s.stop();
  });

  it('marks a final refusal on the item and carries on with the rest', async () => {
    const outbox = new Outbox(memoryStorage());
    const gateway = fakeGateway();
    outbox.add(item('aaaaaaaa1'));
    outbox.add(item('aaaaaaaa2'));
    gateway.failNextWith(Object.assign(new Error('Session not found'), { data: { appCode: 'NOT_FOUND' } }));
    await sender(outbox, gateway).flush();
    expect(outbox.items()).toEqual([{ ...item('aaaaaaaa1'), error: { code: 'NOT_FOUND', message: 'Session not found' } }]);
    expect(outbox.pending()).toEqual([]);
  });

  it('retries by itself after a temporary refusal', async () => {
    const outbox = new Outbox(memoryStorage());
    const gateway = fakeGateway();
    const s = sender(outbox, gateway);
    outbox.add(item('aaaaaaaa1'));
    gateway.failNextWith(Object.assign(new Error('slow down'), { data: { appCode: 'RATE_LIMITED' } }));
    await s.flush();
    expect(outbox.items()).toHaveLength(1);
    await expect.poll(() => outbox.items().length).toBe(0);
    s.stop();
  });

  it('resolves the default session once for items typed before any session existed', async () => {
    const outbox = new Outbox(memoryStorage());
    const gateway = fakeGateway();
    let ensured = 0;
    outbox.add(item('aaaaaaaa1', null));
    outbox.add(item('aaaaaaaa2', null));
    await sender(outbox, gateway, async () => {
      ensured++;
      return 'main-id';
    }).flush();
    expect(ensured).toBe(1);
    expect([...gateway.stored.values()].map((v) => v.sessionId)).toEqual(['main-id', 'main-id']);
  });
});
