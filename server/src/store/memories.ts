/** Long-term memory with an FTS5 index, and the summaries context compaction stores. */
import { AppError, LIMITS, type Memory } from '@autoclaw/shared';
import type { StoreContext } from './context';
import type { Store, SummaryRecord } from './types';
import { MAX_STORED_TEXT, checkCount, checkLimit, checkText } from './validate';

export type MemoryQueries = Pick<
  Store,
  'saveMemory' | 'searchMemories' | 'listMemories' | 'deleteMemory' | 'latestSummary' | 'saveSummary'
>;

interface MemoryRow {
  id: string;
  text: string;
  created_at: number;
}

interface SummaryRow {
  session_id: string;
  upto_seq: number;
  text: string;
  created_at: number;
}

const MAX_QUERY_WORDS = 32;

/**
 * Turns free text into a safe FTS5 query: every word becomes a quoted prefix
 * term, joined by OR and ranked by bm25. Quoting means no user text is ever
 * read as FTS5 syntax (AND, NEAR, column filters, unbalanced quotes…).
 * Returns null when the text has no word to search for.
 */
export function ftsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}]+/gu);
  if (!words) return null;
  const unique = [...new Set(words.map((word) => word.toLowerCase()))].slice(0, MAX_QUERY_WORDS);
  return unique.map((word) => `"${word}"*`).join(' OR ');
}

const toMemory = (row: MemoryRow): Memory => ({ id: row.id, text: row.text, createdAt: row.created_at });

export function memoryQueries({ db, now, newId }: StoreContext): MemoryQueries {
  const insert = db.prepare<[string, string, number]>('INSERT INTO memories (id, text, created_at) VALUES (?, ?, ?)');
  const search = db.prepare<[string, number], MemoryRow>(
    `SELECT m.id, m.text, m.created_at FROM memories_fts f JOIN memories m ON m.seq = f.rowid
     WHERE memories_fts MATCH ? ORDER BY f.rank, m.seq DESC LIMIT ?`,
  );
  const newest = db.prepare<[number], MemoryRow>('SELECT id, text, created_at FROM memories ORDER BY seq DESC LIMIT ?');
  // Asked before each search: a turn runs one, and most people have no memories yet (an FTS5 prefix query costs even on an empty index).
  const anyMemory = db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM memories)').pluck();
  const remove = db.prepare<[string]>('DELETE FROM memories WHERE id = ?');

  const sessionExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM sessions WHERE id = ?');
  const insertSummary = db.prepare<[string, number, string, number]>(
    'INSERT INTO summaries (session_id, upto_seq, text, created_at) VALUES (?, ?, ?, ?)',
  );
  const latest = db.prepare<[string], SummaryRow>(
    'SELECT session_id, upto_seq, text, created_at FROM summaries WHERE session_id = ? ORDER BY upto_seq DESC, id DESC LIMIT 1',
  );

  const saveSummary = db.transaction((sessionId: string, uptoSeq: number, text: string): SummaryRecord => {
    if (!sessionExists.get(sessionId)) throw new AppError('NOT_FOUND', `session ${sessionId} was not found`);
    const createdAt = now();
    insertSummary.run(sessionId, uptoSeq, text, createdAt);
    return { sessionId, uptoSeq, text, createdAt };
  });

  return {
    saveMemory(text) {
      const checked = checkText(typeof text === 'string' ? text.trim() : text, 'memory', LIMITS.memoryChars);
      const memory: Memory = { id: newId(), text: checked, createdAt: now() };
      insert.run(memory.id, memory.text, memory.createdAt);
      return memory;
    },
    searchMemories(query, limit) {
      const max = checkLimit(limit);
      if (typeof query !== 'string') throw new AppError('BAD_REQUEST', 'search text must be text');
      if (anyMemory.get() === 0) return [];
      const match = ftsQuery(query.slice(0, 1_000));
      // A query without any word (blank, only punctuation) filters nothing.
      if (match === null) return newest.all(max).map(toMemory);
      return search.all(match, max).map(toMemory);
    },
    listMemories(limit) {
      return newest.all(checkLimit(limit)).map(toMemory);
    },
    deleteMemory(id) {
      if (typeof id !== 'string') return false;
      return remove.run(id).changes > 0;
    },
    latestSummary(sessionId) {
      if (typeof sessionId !== 'string') return null;
      const row = latest.get(sessionId);
      return row ? { sessionId: row.session_id, uptoSeq: row.upto_seq, text: row.text, createdAt: row.created_at } : null;
    },
    saveSummary(record) {
      if (typeof record.sessionId !== 'string') throw new AppError('NOT_FOUND', 'session was not found');
      const uptoSeq = checkCount(record.uptoSeq, 'uptoSeq');
      const text = checkText(record.text, 'summary', MAX_STORED_TEXT);
      return saveSummary.immediate(record.sessionId, uptoSeq, text);
    },
  };
}
