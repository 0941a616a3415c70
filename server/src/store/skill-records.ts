/** What skills keep in the store: standing approvals of risky tools, and the documents index. */
import { AppError } from '@autoclaw/shared';
import type { StoreContext } from './context';
import { ftsQuery } from './memories';
import type { SkillDocument, Store, ToolApprovalRecord } from './types';
import { MAX_STORED_TEXT, checkLimit, checkText } from './validate';

export type SkillRecordQueries = Pick<
  Store,
  'addToolApproval' | 'hasToolApproval' | 'listToolApprovals' | 'deleteToolApproval' | 'putSkillDocument' | 'deleteSkillDocument' | 'searchSkillDocuments'
>;

interface ApprovalRow {
  id: string;
  tool: string;
  scope: 'session' | 'always';
  session_id: string | null;
  created_at: number;
}

const toApproval = (row: ApprovalRow): ToolApprovalRecord => ({
  id: row.id,
  tool: row.tool,
  scope: row.scope,
  sessionId: row.session_id,
  createdAt: row.created_at,
});

export function skillRecordQueries({ db, now, newId }: StoreContext): SkillRecordQueries {
  const findGrant = db.prepare<[string, string, string], ApprovalRow>(
    "SELECT * FROM tool_approvals WHERE tool = ? AND scope = ? AND ifnull(session_id, '') = ?",
  );
  const insertGrant = db.prepare<[string, string, string, string | null, number]>(
    'INSERT INTO tool_approvals (id, tool, scope, session_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const covers = db.prepare<[string, string], { one: number }>(
    "SELECT 1 AS one FROM tool_approvals WHERE tool = ? AND (scope = 'always' OR session_id = ?) LIMIT 1",
  );
  const listGrants = db.prepare<[], ApprovalRow>('SELECT * FROM tool_approvals ORDER BY created_at, id');
  const deleteGrant = db.prepare<[string]>('DELETE FROM tool_approvals WHERE id = ?');
  const sessionExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM sessions WHERE id = ?');

  const upsertDoc = db.prepare<[string, string, string, number]>(
    `INSERT INTO skill_documents (skill, path, text, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (skill, path) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
  );
  const deleteDoc = db.prepare<[string, string]>('DELETE FROM skill_documents WHERE skill = ? AND path = ?');
  const searchDocs = db.prepare<[string, string | null, string | null, number], { skill: string; path: string; snippet: string; updated_at: number }>(
    `SELECT d.skill, d.path, snippet(skill_documents_fts, 1, '', '', '…', 24) AS snippet, d.updated_at
     FROM skill_documents_fts f JOIN skill_documents d ON d.seq = f.rowid
     WHERE skill_documents_fts MATCH ? AND (? IS NULL OR d.skill = ?) ORDER BY f.rank, d.seq DESC LIMIT ?`,
  );

  const addGrant = db.transaction((tool: string, scope: 'session' | 'always', sessionId: string | null): ToolApprovalRecord => {
    const existing = findGrant.get(tool, scope, sessionId ?? '');
    if (existing) return toApproval(existing);
    if (sessionId !== null && !sessionExists.get(sessionId)) throw new AppError('NOT_FOUND', `session ${sessionId} was not found`);
    const row: ApprovalRow = { id: newId(), tool, scope, session_id: sessionId, created_at: now() };
    insertGrant.run(row.id, row.tool, row.scope, row.session_id, row.created_at);
    return toApproval(row);
  });

  return {
    addToolApproval({ tool, scope, sessionId }) {
      const name = checkText(tool, 'tool', 64);
      if (scope !== 'session' && scope !== 'always') throw new AppError('BAD_REQUEST', 'scope must be session or always');
      if ((scope === 'session') !== (typeof sessionId === 'string')) throw new AppError('BAD_REQUEST', 'a session approval needs its session, an always approval none');
      return addGrant.immediate(name, scope, scope === 'session' ? sessionId : null);
    },
    hasToolApproval(tool, sessionId) {
      return covers.get(tool, sessionId) !== undefined;
    },
    listToolApprovals() {
      return listGrants.all().map(toApproval);
    },
    deleteToolApproval(id) {
      if (typeof id !== 'string') return false;
      return deleteGrant.run(id).changes > 0;
    },
    putSkillDocument(skill, path, text) {
      upsertDoc.run(checkText(skill, 'skill', 64), checkText(path, 'path', 512), checkText(text, 'document', MAX_STORED_TEXT), now());
    },
    deleteSkillDocument(skill, path) {
      return deleteDoc.run(skill, path).changes > 0;
    },
    searchSkillDocuments(query, limit, skill): SkillDocument[] {
      const max = checkLimit(limit);
      const match = typeof query === 'string' ? ftsQuery(query.slice(0, 1_000)) : null;
      if (match === null) return [];
      return searchDocs
        .all(match, skill ?? null, skill ?? null, max)
        .map((r) => ({ skill: r.skill, path: r.path, snippet: r.snippet, updatedAt: r.updated_at }));
    },
  };
}
