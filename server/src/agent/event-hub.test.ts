import { afterEach, describe, expect, it } from 'vitest';
import type { ChatEvent, Session } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { EventHub, type SyncEvent } from './event-hub';
import { TEST_KEY, deltaText, defaultModel, makeProvider, openHarness, waitFor } from './test-harness';
import type { TrackedEvent } from './types';

const session: Session = { id: 's1', name: 's1', title: 'S', channel: 'webchat', createdAt: 0, updatedAt: 0, preview: '', busy: false };

function hub(opts: { bufferSize?: number; maxLag?: number; now?: () => number; idleMs?: number } = {}) {
  let snapshots = 0;
  const h = new EventHub({
    bootId: 'boot',
    now: opts.now ?? (() => 0),
    snapshot: (id): SyncEvent => {
      if (id === 'gone') throw new Error('no such session');
      snapshots += 1;
      return { type: 'sync', session, messages: [] };
    },
    ...opts,
  });
  return { h, snapshots: () => snapshots };
}

const delta = (n: number): ChatEvent => ({ type: 'delta', messageId: 'm1', offset: n, text: 'x' });

/** Pulls events until `count` were received, then aborts. */
async function take(gen: AsyncIterable<TrackedEvent>, controller: AbortController, count: number): Promise<TrackedEvent[]> {
  const out: TrackedEvent[] = [];
  for await (const event of gen) {
    out.push(event);
    if (out.length >= count) controller.abort();
  }
  return out;
}

describe('EventHub', () => {
  it('replays what came after a known id, then goes live', async () => {
    const { h } = hub();
    for (let i = 0; i < 5; i++) h.emit('s1', delta(i));
    const controller = new AbortController();
    const got = take(h.subscribe('s1', 'boot.2', controller.signal), controller, 4);
    await Promise.resolve();
    h.emit('s1', delta(5));
    const events = await got;
    expect(events.map((e) => e.id)).toEqual(['boot.3', 'boot.4', 'boot.5', 'boot.6']);
  });

  it('sends a snapshot for no id, an id of another boot, a future id or one that left the ring', async () => {
    const { h, snapshots } = hub({ bufferSize: 3 });
    for (let i = 0; i < 5; i++) h.emit('s1', delta(i));
    for (const last of [null, 'other.3', 'boot.99', 'boot.1', 'garbage']) {
      const controller = new AbortController();
      const [first] = await take(h.subscribe('s1', last, controller.signal), controller, 1);
      expect(first!.event.type).toBe('sync');
    }
    expect(snapshots()).toBe(5);
    // boot.2 is the newest dropped event: everything after it is still held.
    const controller = new AbortController();
    const events = await take(h.subscribe('s1', 'boot.2', controller.signal), controller, 3);
    expect(events.map((e) => e.id)).toEqual(['boot.3', 'boot.4', 'boot.5']);
  });

  it('resyncs a subscriber that lags too far instead of growing without bound', async () => {
    const { h } = hub({ maxLag: 10 });
    const controller = new AbortController();
    const gen = h.subscribe('s1', null, controller.signal)[Symbol.asyncIterator]();
    expect((await gen.next()).value.event.type).toBe('sync');
    for (let i = 0; i < 25; i++) h.emit('s1', delta(i));
    expect((await gen.next()).value.event.type).toBe('sync');
    h.emit('s1', delta(99));
    expect((await gen.next()).value.event).toEqual(delta(99));
    controller.abort();
    expect((await gen.next()).done).toBe(true);
    expect(h.stats().subscribers).toBe(0);
  });

  it('ends on abort and on close, and drops idle rings on sweep', async () => {
    let now = 0;
    const { h } = hub({ now: () => now, idleMs: 1000 });
    const controller = new AbortController();
    const gen = h.subscribe('s1', null, controller.signal)[Symbol.asyncIterator]();
    expect((await gen.next()).value.event.type).toBe('sync');
    h.emit('s1', delta(0));
    h.emit('s2', delta(0));
    now = 5000;
    expect(h.sweep()).toBe(1); // s2: quiet, nobody listening; s1 has a listener
    expect((await gen.next()).value.event).toEqual(delta(0));
    const waiting = gen.next();
    controller.abort();
    expect((await waiting).done).toBe(true);
    expect(h.sweep()).toBe(0); // just left: kept a while for a quick reconnect
    now = 10_000;
    expect(h.sweep()).toBe(1);
    expect(h.stats()).toEqual({ sessions: 0, bufferedEvents: 0, subscribers: 0 });
    const second = new AbortController();
    const closing = take(h.subscribe('s1', null, second.signal), second, 99);
    await Promise.resolve();
    h.close();
    expect((await closing).map((e) => e.event.type)).toEqual(['sync']);
  });

  it('throws for a session the snapshot cannot find, leaving nothing behind', async () => {
    const { h } = hub();
    const gen = h.subscribe('gone', null, new AbortController().signal);
    await expect(gen.next()).rejects.toThrow(/no such session/);
    expect(h.stats().sessions).toBe(0);
  });
});

describe('chat events over the real service', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('resumes from lastEventId with nothing lost or duplicated; an unknown id gets a sync', async () => {
    const server = await startAnthropicWireServer({ apiKey: TEST_KEY, wordDelayMs: 20 });
    cleanups.push(() => server.close());
    const provider = makeProvider('anthropic', server.url);
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }) });
    cleanups.push(() => h.close());

    const first = h.record();
    h.send('one two three four five six seven eight nine ten');
    await waitFor(() => first.events.filter((e) => e.event.type === 'delta').length >= 3, 15_000, 'some deltas');
    await first.stop();
    const lastId = first.events.at(-1)!.id;

    const resumed = h.record(h.session.id, lastId);
    await h.service.idle();
    await waitFor(() => resumed.events.some((e) => e.event.type === 'session' && !e.event.session.busy), 15_000, 'turn end');
    expect(resumed.events[0]!.event.type).not.toBe('sync');
    const all = [...first.events, ...resumed.events];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const answer = h.service.history(h.session.id)[1]!;
    expect(deltaText(all, answer.id)).toBe(answer.text);

    const fresh = h.record(h.session.id, 'not-a-known-id.7');
    await waitFor(() => fresh.events.length > 0, 15_000, 'sync');
    const sync = fresh.events[0]!.event;
    expect(sync.type === 'sync' && sync.messages.map((m) => m.text)).toEqual([
      'one two three four five six seven eight nine ten',
      answer.text,
    ]);
  });

  it('a snapshot taken mid-stream holds the partial text; later deltas continue right after it', async () => {
    const server = await startAnthropicWireServer({ apiKey: TEST_KEY });
    cleanups.push(() => server.close());
    const provider = makeProvider('anthropic', server.url);
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }), persistIntervalMs: 60_000 });
    cleanups.push(() => h.close());
    h.send('alpha beta gamma delta epsilon zeta eta theta /slow');
    const answer = await waitFor(() => h.service.history(h.session.id)[1], 15_000, 'answer');
    await waitFor(() => h.service.history(h.session.id)[1]!.text.length > 10, 15_000, 'some text');
    const late = h.record();
    await h.service.idle();
    await waitFor(() => late.events.some((e) => e.event.type === 'session' && !e.event.session.busy), 15_000, 'turn end');
    const sync = late.events[0]!.event;
    if (sync.type !== 'sync') throw new Error('expected a sync first');
    const partial = sync.messages[1]!.text;
    expect(partial.length).toBeGreaterThan(10);
    expect(partial + deltaText(late.events, answer.id, partial.length)).toBe(h.service.history(h.session.id)[1]!.text);
  });

  it('deleting a message sends live subscribers a fresh snapshot', async () => {
    const server = await startAnthropicWireServer({ apiKey: TEST_KEY });
    cleanups.push(() => server.close());
    const provider = makeProvider('anthropic', server.url);
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }) });
    cleanups.push(() => h.close());
    h.send('keep me');
    await h.service.idle();
    const rec = h.record();
    await waitFor(() => rec.events.length === 1, 15_000, 'sync');
    const answer = h.service.history(h.session.id)[1]!;
    h.service.deleteMessage(answer.id);
    await waitFor(() => rec.events.length >= 2, 15_000, 'resync');
    const again = rec.events[1]!.event;
    expect(again.type === 'sync' && again.messages.map((m) => m.text)).toEqual(['keep me']);
  });
});
