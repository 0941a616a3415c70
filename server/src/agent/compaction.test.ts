import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { chooseCut, transcript } from './compaction';
import { groupTurns } from './history';
import { TEST_KEY, defaultModel, makeProvider, openHarness } from './test-harness';

let seq = 0;
function msg(role: 'user' | 'assistant', text: string, extra: Partial<Message> = {}): Message {
  seq += 1;
  return {
    id: `m${seq}`,
    sessionId: 's',
    seq,
    turnId: null,
    role,
    text,
    clientId: null,
    status: 'done',
    error: null,
    model: null,
    toolCalls: [],
    usage: null,
    createdAt: seq,
    updatedAt: seq,
    ...extra,
  };
}

describe('chooseCut', () => {
  it('covers the oldest turns so the newest fit, cutting only where the window is whole', () => {
    const window = [msg('user', 'a'.repeat(400)), msg('assistant', 'b'.repeat(400)), msg('user', 'c'.repeat(400)), msg('assistant', 'd'.repeat(400)), msg('user', 'e'.repeat(40)), msg('assistant', 'f'.repeat(40))];
    const turns = groupTurns(window, () => []);
    const cut = chooseCut(turns, window.length, 60);
    expect(cut).toEqual({ coverCount: 2, cutIndex: 3 });
  });

  it('never cuts between a turn and a message that belongs to it later', () => {
    // u1's tool round, then u2 was sent while u1 still ran, then u1's final answer.
    const u1 = msg('user', 'x'.repeat(400));
    const a1 = msg('assistant', '', { toolCalls: [{ id: 't1', messageId: 'x', name: 'current_time', input: '{}', status: 'done', result: 'now', risky: false, createdAt: 0, updatedAt: 0 }] });
    const u2 = msg('user', 'y'.repeat(400));
    const a1b = msg('assistant', 'z'.repeat(400));
    const a2 = msg('assistant', 'w'.repeat(40));
    const window = [u1, a1, u2, a1b, a2];
    const turns = groupTurns(window, (id) => (id === u1.id ? [a1.id, a1b.id] : []));
    expect(turns.map((t) => [t.user?.id, t.assistants.map((a) => a.id)])).toEqual([
      [u1.id, [a1.id, a1b.id]],
      [u2.id, [a2.id]],
    ]);
    // Keeping u2's turn would need a cut at a1b, which would cover u2 too: no valid cut.
    expect(chooseCut(turns, window.length, 200)).toBeNull();
    // Covering both turns is a valid cut (everything before a2 and a2 itself).
    expect(chooseCut(turns, window.length, 20)).toEqual({ coverCount: 2, cutIndex: 4 });
  });

  it('writes a transcript with the previous summary first and clips long pieces', () => {
    const turns = groupTurns([msg('user', 'hello'), msg('assistant', 'q'.repeat(10_000))], () => []);
    const text = transcript('earlier things', turns, 100_000);
    expect(text.startsWith('Summary of what came before:\nearlier things')).toBe(true);
    expect(text).toContain('User: hello');
    expect(text.length).toBeLessThan(5_000);
  });
});

describe('compaction in a session', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('stores a summary of older turns, keeps every message, and sends summary + newer turns', async () => {
    const server = await startAnthropicWireServer({ apiKey: TEST_KEY });
    cleanups.push(() => server.close());
    const provider = makeProvider('anthropic', server.url);
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }), contextBudgetTokens: 3_000 });
    cleanups.push(() => h.close());

    const texts = Array.from({ length: 8 }, (_, i) => `message number ${i} ${'lorem ipsum '.repeat(35)}`);
    for (const text of texts) {
      h.send(text);
      await h.service.idle();
    }
    const summaryCalls = server.requests.filter((r) => JSON.stringify((r.body as { system?: unknown }).system).includes('Summarize'));
    expect(summaryCalls.length).toBeGreaterThanOrEqual(1);
    const summary = h.store.latestSummary(h.session.id);
    expect(summary?.text).toMatch(/^Summary: \d+ messages$/);
    // Nothing deleted: all 16 messages remain, all done.
    const history = h.service.history(h.session.id);
    expect(history).toHaveLength(16);
    expect(history.every((m) => m.status === 'done')).toBe(true);
    // One usage row per provider call, the summary calls included.
    expect(h.service.usageSummary().calls).toBe(server.requests.length);

    const last = JSON.stringify(server.requests.at(-1)!.body);
    expect(last).toContain('[Summary of the earlier conversation]');
    expect(last).not.toContain('message number 0 ');
    expect(last).toContain('message number 7 ');
    // The newer turns are read from the summary's seq on.
    expect(h.store.listMessages(h.session.id, { afterSeq: summary!.uptoSeq }).length).toBeLessThan(16);
  });
});
