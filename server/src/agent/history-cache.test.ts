import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store/types';
import { tempStore, type TempStore } from '../store/test-helpers';
import { HistoryCache } from './history-cache';

let t: TempStore;
let reads: string[];
/** The store, counting the single-message reads a window refresh makes. */
let counted: Store;
beforeEach(() => {
  t = tempStore();
  reads = [];
  counted = { ...t.store, getMessage: (id: string) => (reads.push(id), t.store.getMessage(id)) };
});
afterEach(() => t.cleanup());

/** A turn as the runner leaves it open, then ends it: the user message and its answer. */
function openTurn(sessionId: string, text: string) {
  const user = t.store.insertUserMessage({ sessionId, clientId: `client-${text.replace(/\W/g, '_')}`, text }).message;
  t.store.setMessageStatus(user.id, 'running');
  const answer = t.store.createAssistantMessage({ sessionId, turnId: user.id, model: 'anthropic:claude-haiku-4-5' });
  const end = () => {
    t.store.setMessageText(answer.id, `Echo: ${text}`);
    return [t.store.setMessageStatus(answer.id, 'done'), t.store.setMessageStatus(user.id, 'done')];
  };
  return { user, answer, end };
}

describe('history cache', () => {
  it('reads the open tail again on the next turn, unless the turn handed over its settled messages', () => {
    const session = t.store.createSession({ name: 'cache' });
    const cache = new HistoryCache(counted);
    const first = openTurn(session.id, 'one');
    expect(cache.window(session.id).messages.map((m) => m.status)).toEqual(['running', 'streaming']);
    first.end();
    // Not handed over: both are read again.
    openTurn(session.id, 'two');
    reads = [];
    const window = cache.window(session.id);
    expect(reads).toEqual([first.user.id, first.answer.id]);
    expect(window.messages.slice(0, 2).map((m) => [m.status, m.text])).toEqual([
      ['done', 'one'],
      ['done', 'Echo: one'],
    ]);

    // Handed over at the end of the turn: the next window reads neither, and holds the very objects.
    const second = window.messages.slice(2);
    const ended = [t.store.setMessageStatus(second[1]!.id, 'done'), t.store.setMessageStatus(second[0]!.id, 'done')];
    cache.settle(session.id, ended);
    reads = [];
    const next = cache.window(session.id);
    expect(reads).toEqual([]);
    expect(next.messages[2]).toBe(ended[1]);
    expect(next.messages[3]).toBe(ended[0]);
    expect(next.messages).toEqual(t.store.listMessages(session.id));
  });

  it('keeps reading a message handed over while still open', () => {
    const session = t.store.createSession({ name: 'open' });
    const cache = new HistoryCache(counted);
    const turn = openTurn(session.id, 'still going');
    cache.window(session.id);
    cache.settle(session.id, [turn.answer]);
    reads = [];
    cache.window(session.id);
    expect(reads).toEqual([turn.user.id, turn.answer.id]);
  });
});
