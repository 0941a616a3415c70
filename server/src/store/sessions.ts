/** Sessions and their list view (preview of the newest text, busy flag). */
import { AppError, type Session } from '@autoclaw/shared';
import type { StoreContext } from './context';
import { previewOf, type SessionRow } from './rows';
import type { Store } from './types';
import { checkName } from './validate';

const DEFAULT_TITLE = 'New chat';

/** A channel name: 'webchat' (the default) or a chat channel's lowercase name. */
function checkChannel(channel: string | undefined): string {
  if (channel === undefined) return 'webchat';
  if (typeof channel !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(channel)) {
    throw new AppError('BAD_REQUEST', 'a channel name is 1–32 lowercase letters, digits or dashes');
  }
  return channel;
}

// updated_at: the session row's own time (made, renamed) or its newest
// message's, whichever is later; inserting a message never rewrites the
// session row. The preview reads at most 2000 characters of the newest
// non-empty message: plenty for 120 once whitespace is collapsed.
const ACTIVITY = /* sql */ `max(s.updated_at, coalesce(
    (SELECT m.updated_at FROM messages m WHERE m.session_id = s.id ORDER BY m.seq DESC LIMIT 1), 0))`;
const VIEW_COLUMNS = /* sql */ `
  s.id, s.name, s.title, s.channel, s.created_at,
  ${ACTIVITY} AS updated_at,
  (SELECT substr(m.text, 1, 2000) FROM messages m
     WHERE m.session_id = s.id AND m.text <> '' ORDER BY m.seq DESC LIMIT 1) AS preview,
  (EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.role = 'user' AND m.status = 'queued')
   OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.role = 'user' AND m.status = 'running')) AS busy`;

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    channel: row.channel,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    preview: previewOf(row.preview),
    busy: row.busy === 1,
  };
}

export type SessionQueries = Pick<
  Store,
  'createSession' | 'ensureSession' | 'getSession' | 'listSessions' | 'listSessionsPage' | 'renameSession' | 'deleteSession'
>;

/** Where a page ends: the sort key of its last session. */
type PageKey = [updatedAt: number, createdAt: number, id: string];

function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): PageKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  if (
    !Array.isArray(key) ||
    key.length !== 3 ||
    !Number.isSafeInteger(key[0]) ||
    !Number.isSafeInteger(key[1]) ||
    typeof key[2] !== 'string' ||
    !/^[A-Za-z0-9_-]{1,64}$/.test(key[2])
  ) {
    throw new AppError('BAD_REQUEST', 'cursor is not one this gateway gave (pass the nextCursor of the previous page)');
  }
  return key as PageKey;
}

export function sessionQueries({ db, now, newId }: StoreContext): SessionQueries {
  const byId = db.prepare<[string], SessionRow>(`SELECT ${VIEW_COLUMNS} FROM sessions s WHERE s.id = ?`);
  const byName = db.prepare<[string], SessionRow>(`SELECT ${VIEW_COLUMNS} FROM sessions s WHERE s.name = ?`);
  const all = db.prepare<[], SessionRow>(
    `SELECT ${VIEW_COLUMNS} FROM sessions s ORDER BY updated_at DESC, s.created_at DESC, s.id DESC`,
  );
  // Keyset paging on (activity, created_at, id), all descending: the sort key
  // is computed for every session (an index lookup each), the view columns
  // only for the page.
  const pageKeys = /* sql */ `SELECT s.id AS id, s.created_at AS created_at, ${ACTIVITY} AS activity FROM sessions s`;
  const pageOrder = 'ORDER BY k.activity DESC, k.created_at DESC, k.id DESC LIMIT ?';
  const firstPage = db.prepare<[number], SessionRow>(
    `SELECT ${VIEW_COLUMNS} FROM (${pageKeys}) k JOIN sessions s ON s.id = k.id ${pageOrder}`,
  );
  const nextPage = db.prepare<[number, number, string, number], SessionRow>(
    `SELECT ${VIEW_COLUMNS} FROM (${pageKeys}) k JOIN sessions s ON s.id = k.id
     WHERE (k.activity, k.created_at, k.id) < (?, ?, ?) ${pageOrder}`,
  );
  const nameTaken = db.prepare<[string], { id: string }>('SELECT id FROM sessions WHERE name = ?');
  const insert = db.prepare<[string, string, string, string, number, number]>(
    'INSERT INTO sessions (id, name, title, channel, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertIfAbsent = db.prepare<[string, string, string, string, number, number]>(
    'INSERT INTO sessions (id, name, title, channel, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING',
  );
  const rename = db.prepare<[string, number, string]>('UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?');
  const remove = db.prepare<[string]>('DELETE FROM sessions WHERE id = ?');

  const mustGet = (row: SessionRow | undefined, what: string): Session => {
    if (!row) throw new AppError('NOT_FOUND', `session ${what} was not found`);
    return toSession(row);
  };

  const create = db.transaction((name: string | undefined, title: string | undefined, channel: string): Session => {
    const id = newId();
    if (name !== undefined && nameTaken.get(name)) {
      throw new AppError('CONFLICT', `a session named "${name}" already exists`);
    }
    const at = now();
    insert.run(id, name ?? id, title ?? name ?? DEFAULT_TITLE, channel, at, at);
    return mustGet(byId.get(id), id);
  });

  const ensure = db.transaction((name: string, channel: string): Session => {
    const at = now();
    insertIfAbsent.run(newId(), name, name, channel, at, at);
    return mustGet(byName.get(name), `named "${name}"`);
  });

  return {
    createSession(input) {
      // A session made without a name is addressed by its id, so its name is its id.
      const name = input.name === undefined ? undefined : checkName(input.name, 'session name');
      const title = input.title === undefined ? undefined : checkName(input.title, 'session title');
      return create.immediate(name, title, checkChannel(input.channel));
    },
    ensureSession(name, opts) {
      const checked = checkName(name, 'session name');
      const found = byName.get(checked);
      if (found) return toSession(found);
      return ensure.immediate(checked, checkChannel(opts?.channel));
    },
    getSession(id) {
      if (typeof id !== 'string') return null;
      const row = byId.get(id);
      return row ? toSession(row) : null;
    },
    listSessions() {
      return all.all().map(toSession);
    },
    listSessionsPage({ limit, cursor }) {
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1_000) throw new AppError('BAD_REQUEST', 'limit must be 1–1000');
      // One more than asked tells whether another page follows.
      const rows = cursor === undefined ? firstPage.all(limit + 1) : nextPage.all(...decodeCursor(cursor), limit + 1);
      const sessions = rows.slice(0, limit).map(toSession);
      const last = sessions.at(-1);
      return { sessions, nextCursor: rows.length > limit && last ? encodeCursor([last.updatedAt, last.createdAt, last.id]) : null };
    },
    renameSession(id, title) {
      const checked = checkName(title, 'session title');
      if (typeof id !== 'string' || rename.run(checked, now(), id).changes === 0) {
        throw new AppError('NOT_FOUND', `session ${String(id)} was not found`);
      }
      return mustGet(byId.get(id), id);
    },
    deleteSession(id) {
      // Messages, tool calls and summaries go by ON DELETE CASCADE; usage rows
      // keep their costs with session_id set to NULL.
      if (typeof id !== 'string') return false;
      return remove.run(id).changes > 0;
    },
  };
}
