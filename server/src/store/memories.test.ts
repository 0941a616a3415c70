import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '@autoclaw/shared';
import { ftsQuery } from './memories';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

describe('memories', () => {
  it('saves and lists memories newest first', () => {
    const a = t.store.saveMemory('  The user likes green tea  ');
    t.clock.advance(1);
    const b = t.store.saveMemory('The user lives in Lisbon');
    expect(a).toMatchObject({ text: 'The user likes green tea', createdAt: t.clock.now() - 1 });
    expect(t.store.listMemories(10).map((m) => m.id)).toEqual([b.id, a.id]);
    expect(t.store.listMemories(1).map((m) => m.id)).toEqual([b.id]);
    expect(codeOf(() => t.store.saveMemory('   '))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.saveMemory('x'.repeat(LIMITS.memoryChars + 1)))).toBe('PAYLOAD_TOO_LARGE');
    expect(codeOf(() => t.store.listMemories(0))).toBe('BAD_REQUEST');
  });

  it('searches with FTS5: words, prefixes, diacritics, best match first', () => {
    const tea = t.store.saveMemory('The user likes green tea in the morning');
    const coffee = t.store.saveMemory('The user drinks coffee, black, no sugar');
    const city = t.store.saveMemory('Home town: São Paulo; works at the Café Central');
    const both = t.store.saveMemory('Tea or coffee? Coffee at work, tea at home, coffee always');

    expect(t.store.searchMemories('coffee', 10).map((m) => m.id)).toEqual([both.id, coffee.id]);
    expect(t.store.searchMemories('coff', 10).map((m) => m.id).sort()).toEqual([both.id, coffee.id].sort());
    expect(t.store.searchMemories('sao paulo', 10).map((m) => m.id)).toEqual([city.id]);
    expect(t.store.searchMemories('CAFE', 10).map((m) => m.id)).toEqual([city.id]);
    expect(t.store.searchMemories('green tea', 10)[0]?.id).toBe(tea.id);
    expect(t.store.searchMemories('tea', 1)).toHaveLength(1);
    expect(t.store.searchMemories('volcano', 10)).toEqual([]);
  });

  it('searches nothing while there is no memory, and still checks its input', () => {
    expect(t.store.searchMemories('anything at all', 5)).toEqual([]);
    expect(codeOf(() => t.store.searchMemories('x', 0))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.searchMemories(42 as unknown as string, 5))).toBe('BAD_REQUEST');
    const only = t.store.saveMemory('The user plays the cello');
    expect(t.store.searchMemories('cello', 5).map((m) => m.id)).toEqual([only.id]);
    t.store.deleteMemory(only.id);
    expect(t.store.searchMemories('cello', 5)).toEqual([]);
  });

  it('never lets search text act as FTS5 syntax', () => {
    t.store.saveMemory('alpha beta');
    for (const query of ['"', 'alpha"', 'NEAR(alpha beta)', 'alpha AND', 'text:alpha', '*', '(alpha', '^alpha', 'alpha -beta', "'; DROP TABLE memories; --"]) {
      expect(() => t.store.searchMemories(query, 5)).not.toThrow();
    }
    expect(t.store.searchMemories('text:alpha', 5)).toHaveLength(1);
    expect(ftsQuery('NEAR(a "b")')).toBe('"near"* OR "a"* OR "b"*');
    expect(ftsQuery(' -- ')).toBeNull();
    // A query with no words filters nothing.
    expect(t.store.searchMemories('  ?! ', 5)).toHaveLength(1);
  });

  it('deleting a memory removes it from search', () => {
    const a = t.store.saveMemory('secret hobby: birdwatching');
    t.store.saveMemory('favourite bird: robin');
    expect(t.store.searchMemories('bird', 10)).toHaveLength(2);
    expect(t.store.deleteMemory(a.id)).toBe(true);
    expect(t.store.deleteMemory(a.id)).toBe(false);
    expect(t.store.searchMemories('birdwatching', 10)).toEqual([]);
    expect(t.store.searchMemories('bird', 10)).toHaveLength(1);
    // The external-content index still matches its table.
    expect(t.reopen().searchMemories('robin', 10)).toHaveLength(1);
  });
});

describe('summaries', () => {
  it('keeps the latest summary of a session', () => {
    const s = t.store.ensureSession('main');
    expect(t.store.latestSummary(s.id)).toBeNull();
    const first = t.store.saveSummary({ sessionId: s.id, uptoSeq: 10, text: 'older turns' });
    t.clock.advance(5);
    const second = t.store.saveSummary({ sessionId: s.id, uptoSeq: 20, text: 'more turns' });
    expect(first).toEqual({ sessionId: s.id, uptoSeq: 10, text: 'older turns', createdAt: t.clock.now() - 5 });
    expect(t.store.latestSummary(s.id)).toEqual(second);
    const before = t.store.dump();
    expect(codeOf(() => t.store.saveSummary({ sessionId: 'nope', uptoSeq: 1, text: 'x' }))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.saveSummary({ sessionId: s.id, uptoSeq: -1, text: 'x' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.saveSummary({ sessionId: s.id, uptoSeq: 1, text: '' }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});
