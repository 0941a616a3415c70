/** Notices for the user: stored so a client that was away still sees them; a key makes one once-only. */
import { NOTICE_BODY_CHARS, NOTICE_TITLE_CHARS, NoticeKind, NoticeLevel, type Notice } from '@autoclaw/shared';
import { AppError } from '@autoclaw/shared';
import type { StoreContext } from './context';
import type { Store } from './types';
import { checkLimit, checkText } from './validate';

export type NoticeQueries = Pick<Store, 'addNotice' | 'listNotices' | 'noticesAfter' | 'markNoticesRead' | 'unreadNotices'>;

interface NoticeRow {
  seq: number;
  id: string;
  kind: string;
  level: string;
  title: string;
  body: string;
  created_at: number;
  read_at: number | null;
}

const COLUMNS = 'seq, id, kind, level, title, body, created_at, read_at';

function toNotice(row: NoticeRow): Notice {
  return {
    id: row.id,
    seq: row.seq,
    kind: row.kind as Notice['kind'],
    level: row.level as Notice['level'],
    title: row.title,
    body: row.body,
    createdAt: row.created_at,
    readAt: row.read_at,
  };
}

export function noticeQueries({ db, now, newId }: StoreContext): NoticeQueries {
  const insert = db.prepare<[string, string, string, string, string, string | null, number]>(
    `INSERT INTO notices (id, kind, level, title, body, key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(key) DO NOTHING`,
  );
  const byId = db.prepare<[string], NoticeRow>(`SELECT ${COLUMNS} FROM notices WHERE id = ?`);
  const newest = db.prepare<[number], NoticeRow>(`SELECT ${COLUMNS} FROM notices ORDER BY seq DESC LIMIT ?`);
  const newestUnread = db.prepare<[number], NoticeRow>(`SELECT ${COLUMNS} FROM notices WHERE read_at IS NULL ORDER BY seq DESC LIMIT ?`);
  const after = db.prepare<[number, number], NoticeRow>(`SELECT ${COLUMNS} FROM notices WHERE seq > ? ORDER BY seq LIMIT ?`);
  const readOne = db.prepare<[number, string]>('UPDATE notices SET read_at = ? WHERE id = ? AND read_at IS NULL');
  const readAll = db.prepare<[number]>('UPDATE notices SET read_at = ? WHERE read_at IS NULL');
  const unread = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM notices WHERE read_at IS NULL');

  const markSome = db.transaction((ids: readonly string[], at: number): number => {
    let changed = 0;
    for (const id of ids) changed += readOne.run(at, id).changes;
    return changed;
  });

  return {
    addNotice(input) {
      const kind = NoticeKind.safeParse(input?.kind);
      const level = NoticeLevel.safeParse(input?.level);
      if (!kind.success) throw new AppError('BAD_REQUEST', 'unknown notice kind');
      if (!level.success) throw new AppError('BAD_REQUEST', 'unknown notice level');
      const title = checkText(input.title, 'notice title', NOTICE_TITLE_CHARS);
      const body = checkText(input.body, 'notice body', NOTICE_BODY_CHARS, { allowEmpty: true });
      const key = input.key === undefined ? null : checkText(input.key, 'notice key', 200);
      const id = newId();
      if (insert.run(id, kind.data, level.data, title, body, key, now()).changes === 0) return null;
      const row = byId.get(id);
      if (!row) throw new AppError('INTERNAL', 'a stored notice could not be read back');
      return toNotice(row);
    },
    listNotices({ limit, unreadOnly }) {
      const n = checkLimit(limit);
      return (unreadOnly ? newestUnread.all(n) : newest.all(n)).map(toNotice);
    },
    noticesAfter(seq, limit) {
      if (!Number.isSafeInteger(seq) || seq < 0) throw new AppError('BAD_REQUEST', 'seq must be a non-negative integer');
      return after.all(seq, checkLimit(limit)).map(toNotice);
    },
    markNoticesRead(ids) {
      const at = now();
      if (ids === 'all') return readAll.run(at).changes;
      if (!Array.isArray(ids)) throw new AppError('BAD_REQUEST', 'ids must be a list');
      return markSome.immediate(ids.map((id) => checkText(id, 'notice id', 64)), at);
    },
    unreadNotices: () => unread.get()?.n ?? 0,
  };
}
