import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

describe('standing tool approvals', () => {
  it('covers a tool in its session, or everywhere; revocable; one row per grant', () => {
    const a = t.store.createSession({ name: 'a' });
    const b = t.store.createSession({ name: 'b' });
    expect(t.store.hasToolApproval('github_create_issue', a.id)).toBe(false);
    const inA = t.store.addToolApproval({ tool: 'github_create_issue', scope: 'session', sessionId: a.id });
    expect(t.store.addToolApproval({ tool: 'github_create_issue', scope: 'session', sessionId: a.id }).id).toBe(inA.id);
    expect(t.store.hasToolApproval('github_create_issue', a.id)).toBe(true);
    expect(t.store.hasToolApproval('github_create_issue', b.id)).toBe(false);
    t.clock.advance(1);
    const always = t.store.addToolApproval({ tool: 'notes_write', scope: 'always', sessionId: null });
    expect(t.store.hasToolApproval('notes_write', b.id)).toBe(true);
    expect(t.store.listToolApprovals().map((g) => [g.tool, g.scope, g.sessionId])).toEqual([
      ['github_create_issue', 'session', a.id],
      ['notes_write', 'always', null],
    ]);
    expect(t.store.deleteToolApproval(always.id)).toBe(true);
    expect(t.store.hasToolApproval('notes_write', b.id)).toBe(false);
    // A conversation's approvals go with it.
    t.store.deleteSession(a.id);
    expect(t.store.listToolApprovals()).toEqual([]);
  });

  it('refuses bad grants and changes nothing', () => {
    const before = t.store.dump();
    expect(codeOf(() => t.store.addToolApproval({ tool: 'x', scope: 'session', sessionId: null }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.addToolApproval({ tool: 'x', scope: 'session', sessionId: 'nope' }))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.addToolApproval({ tool: 'x', scope: 'always', sessionId: 'nope' }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});

describe('skill documents', () => {
  it('indexes, replaces, finds and forgets documents with FTS5', () => {
    t.store.putSkillDocument('notes', 'notes/trip.md', 'Pack the blue tent and the camping stove for Sintra');
    t.store.putSkillDocument('notes', 'notes/shop.md', 'Buy oat milk');
    t.store.putSkillDocument('other', 'x.md', 'a tent of another skill');
    expect(t.store.searchSkillDocuments('tent', 10, 'notes').map((d) => d.path)).toEqual(['notes/trip.md']);
    expect(t.store.searchSkillDocuments('tent', 10).map((d) => d.path).sort()).toEqual(['notes/trip.md', 'x.md']);
    t.store.putSkillDocument('notes', 'notes/trip.md', 'Pack the red umbrella');
    expect(t.store.searchSkillDocuments('tent', 10, 'notes')).toEqual([]);
    expect(t.store.searchSkillDocuments('umbrella', 10, 'notes')[0]).toMatchObject({ path: 'notes/trip.md', snippet: 'Pack the red umbrella' });
    expect(t.store.deleteSkillDocument('notes', 'notes/trip.md')).toBe(true);
    expect(t.store.searchSkillDocuments('umbrella', 10)).toEqual([]);
    expect(t.store.searchSkillDocuments('  ', 10)).toEqual([]);
  });
});
