/** Messages: user messages deduped on their client id, assistant answers per turn. */
import { AppError, LIMITS, isErrorCode, type ErrorInfo, type Message } from '@autoclaw/shared';
import type { StoreContext } from './context';
import type { Hydrate } from './hydrate';
import { MESSAGE_COLUMNS, messageRowOf, type MessageRow, type MessageTuple } from './rows';
import type { InsertUserMessage, InsertUserMessageOutcome, InsertUserMessageResult, Store } from './types';
import { MAX_STORED_TEXT, checkClientId, checkCount, checkLimit, checkMessageStatus, checkText } from './validate';

export type MessageQueries = Pick<
  Store,
  | 'insertUserMessage'
  | 'insertUserMessages'
  | 'createAssistantMessage'
  | 'setMessageText'
  | 'setMessageStatus'
  | 'getMessage'
  | 'listMessages'
  | 'messageSeq'
  | 'turnMessages'
  | 'deleteMessage'
  | 'nextQueued'
>;

type InsertParams = [
  id: string,
  sessionId: string,
  role: 'user' | 'assistant',
  text: string,
  clientId: string | null,
  turnId: string | null,
  status: string,
  model: string | null,
  createdAt: number,
  updatedAt: number,
];

export function messageQueries({ db, now, newId }: StoreContext, hydrate: Hydrate): MessageQueries {
  const byId = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?');
  const byClientId = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE client_id = ?');
  const sessionExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM sessions WHERE id = ?');
  const insert = db.prepare<InsertParams>(
    `INSERT INTO messages (id, session_id, role, text, client_id, turn_id, status, model, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // LIMIT -1 means no limit in SQLite.
  const list = db
    .prepare<[string, number, number], MessageTuple>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    )
    .raw(true);
  const seqOf = db.prepare<[string], { seq: number }>('SELECT seq FROM messages WHERE id = ?');
  const byTurn = db.prepare<[string], MessageRow>(
    "SELECT * FROM messages WHERE turn_id = ? AND role = 'assistant' ORDER BY seq",
  );
  const queued = db.prepare<[string], MessageRow>(
    "SELECT * FROM messages WHERE session_id = ? AND role = 'user' AND status = 'queued' ORDER BY seq LIMIT 1",
  );
  const setText = db.prepare<[string, number, string]>('UPDATE messages SET text = ?, updated_at = ? WHERE id = ?');
  const setStatus = db.prepare<[string, string | null, string | null, number, string]>(
    'UPDATE messages SET status = ?, error_code = ?, error_message = ?, updated_at = ? WHERE id = ?',
  );
  const remove = db.prepare<[string]>('DELETE FROM messages WHERE id = ?');

  const requireSession = (sessionId: unknown): string => {
    if (typeof sessionId !== 'string' || !sessionExists.get(sessionId)) {
      throw new AppError('NOT_FOUND', `session ${String(sessionId)} was not found`);
    }
    return sessionId;
  };
  const requireMessage = (id: string): Message => {
    const row = byId.get(id);
    if (!row) throw new AppError('NOT_FOUND', `message ${id} was not found`);
    return hydrate([row])[0] as Message;
  };

  /** Inside a transaction: dedupe, check the session, insert. */
  const insertOne = (sessionId: string, clientId: string, text: string): InsertUserMessageResult => {
    const existing = byClientId.get(clientId);
    if (existing) return { message: hydrate([existing])[0] as Message, duplicate: true };
    requireSession(sessionId);
    const id = newId();
    const at = now();
    // The session's updatedAt follows its newest message (see sessions.ts),
    // so no session row is rewritten here: one page less per commit.
    const { lastInsertRowid } = insert.run(id, sessionId, 'user', text, clientId, null, 'queued', null, at, at);
    const message: Message = {
      id,
      sessionId,
      seq: Number(lastInsertRowid),
      turnId: null,
      role: 'user',
      text,
      clientId,
      status: 'queued',
      error: null,
      model: null,
      toolCalls: [],
      usage: null,
      createdAt: at,
      updatedAt: at,
    };
    return { message, duplicate: false };
  };
  const insertUser = db.transaction(insertOne);

  type Checked = { sessionId: string; clientId: string; text: string };
  const checkInsert = (input: InsertUserMessage): Checked => {
    const clientId = checkClientId(input.clientId);
    const text = checkText(input.text, 'message', LIMITS.messageChars);
    if (typeof input.sessionId !== 'string') throw new AppError('NOT_FOUND', 'session was not found');
    return { sessionId: input.sessionId, clientId, text };
  };

  const insertMany = db.transaction((items: Array<Checked | AppError>): InsertUserMessageOutcome[] =>
    items.map((item): InsertUserMessageOutcome => {
      if (item instanceof AppError) return { ok: false, error: item };
      try {
        return { ok: true, result: insertOne(item.sessionId, item.clientId, item.text) };
      } catch (err) {
        // Only our own refusals are per item; a database error aborts the batch.
        if (err instanceof AppError) return { ok: false, error: err };
        throw err;
      }
    }),
  );

  const createAssistant = db.transaction((sessionId: string, turnId: string, model: string): Message => {
    requireSession(sessionId);
    const turn = byId.get(turnId);
    if (!turn) throw new AppError('NOT_FOUND', `turn ${turnId} (its user message) was not found`);
    if (turn.role !== 'user' || turn.session_id !== sessionId) {
      throw new AppError('BAD_REQUEST', `turn ${turnId} is not a user message of session ${sessionId}`);
    }
    const id = newId();
    const at = now();
    const { lastInsertRowid } = insert.run(id, sessionId, 'assistant', '', null, turnId, 'streaming', model, at, at);
    // A new message has no tool calls or usage yet: nothing to read back.
    const message: Message = {
      id,
      sessionId,
      seq: Number(lastInsertRowid),
      turnId,
      role: 'assistant',
      text: '',
      clientId: null,
      status: 'streaming',
      error: null,
      model,
      toolCalls: [],
      usage: null,
      createdAt: at,
      updatedAt: at,
    };
    return message;
  });

  // Reads inside one transaction see one snapshot, so tool calls and usage
  // match the message rows even while another process writes.
  const listInSnapshot = db.transaction((sessionId: string, after: number, limit: number): Message[] => {
    requireSession(sessionId);
    const rows = list.all(sessionId, after, limit).map(messageRowOf);
    const last = rows[rows.length - 1];
    return hydrate(rows, last && { sessionId, fromSeq: (rows[0] as MessageRow).seq, toSeq: last.seq });
  });
  const turnInSnapshot = db.transaction((turnId: string): Message[] => hydrate(byTurn.all(turnId)));

  return {
    insertUserMessage(input) {
      const { sessionId, clientId, text } = checkInsert(input);
      return insertUser.immediate(sessionId, clientId, text);
    },
    insertUserMessages(inputs) {
      if (!Array.isArray(inputs)) throw new AppError('BAD_REQUEST', 'messages must be a list');
      const items = inputs.map((input): Checked | AppError => {
        try {
          return checkInsert(input);
        } catch (err) {
          if (err instanceof AppError) return err;
          throw err;
        }
      });
      return insertMany.immediate(items);
    },
    createAssistantMessage(input) {
      const model = checkText(input.model, 'model', 256);
      if (typeof input.turnId !== 'string') throw new AppError('BAD_REQUEST', 'turn id must be text');
      return createAssistant.immediate(requireSession(input.sessionId), input.turnId, model);
    },
    setMessageText(id, text) {
      const checked = checkText(text, 'message text', MAX_STORED_TEXT, { allowEmpty: true });
      if (typeof id !== 'string' || setText.run(checked, now(), id).changes === 0) {
        throw new AppError('NOT_FOUND', `message ${String(id)} was not found`);
      }
    },
    setMessageStatus(id, status, error) {
      const checked = checkMessageStatus(status);
      // The error describes the new state: leaving it out clears an old one.
      const info: ErrorInfo | null = error ?? null;
      if (info !== null) {
        if (!isErrorCode(info.code)) throw new AppError('BAD_REQUEST', `unknown error code ${JSON.stringify(info.code)}`);
        checkText(info.message, 'error message', MAX_STORED_TEXT, { allowEmpty: true });
      }
      if (typeof id !== 'string' || setStatus.run(checked, info?.code ?? null, info?.message ?? null, now(), id).changes === 0) {
        throw new AppError('NOT_FOUND', `message ${String(id)} was not found`);
      }
      return requireMessage(id);
    },
    getMessage(id) {
      if (typeof id !== 'string') return null;
      const row = byId.get(id);
      return row ? (hydrate([row])[0] as Message) : null;
    },
    listMessages(sessionId, opts = {}) {
      const after = opts.afterSeq === undefined ? 0 : checkCount(opts.afterSeq, 'afterSeq');
      const limit = opts.limit === undefined ? -1 : checkLimit(opts.limit);
      return listInSnapshot(sessionId, after, limit);
    },
    messageSeq(id) {
      if (typeof id !== 'string') return null;
      return seqOf.get(id)?.seq ?? null;
    },
    turnMessages(turnId) {
      if (typeof turnId !== 'string') return [];
      return turnInSnapshot(turnId);
    },
    deleteMessage(id) {
      // Tool calls go by ON DELETE CASCADE; usage rows keep their costs.
      if (typeof id !== 'string') return false;
      return remove.run(id).changes > 0;
    },
    nextQueued(sessionId) {
      if (typeof sessionId !== 'string') return null;
      const row = queued.get(sessionId);
      return row ? (hydrate([row])[0] as Message) : null;
    },
  };
}
