/** `autoclaw history`: a session's messages, through the running gateway or straight from the store. */
import { AppError, SESSIONS_PAGE_MAX } from '@autoclaw/shared';
import type { Message, Session } from '@autoclaw/shared';
import { parseDataDir, UsageError, findRunningGateway } from '../gateway';
import { loadOperatorKey } from '../security';
import { parseFlags } from './args';
import { openExistingStore, withStore } from './data-store';
import type { CliIO } from './io';
import { connectRunning } from './running-gateway';

function noSession(name: string): AppError {
  return new AppError('NOT_FOUND', `no session named "${name}"`);
}

async function viaGateway(dataDir: string, name: string): Promise<Message[]> {
  const conn = connectRunning(dataDir, loadOperatorKey);
  const race = <T>(p: Promise<T>): Promise<T> => conn.call(p);
  try {
    // sessions.list pages; walk it until the name turns up.
    let session: Session | undefined;
    let cursor: string | undefined;
    do {
      const page = await race(conn.client.sessions.list.query({ limit: SESSIONS_PAGE_MAX, ...(cursor === undefined ? {} : { cursor }) }));
      session = page.sessions.find((s) => s.name === name);
      cursor = page.nextCursor ?? undefined;
    } while (!session && cursor !== undefined);
    if (!session) throw noSession(name);
    return await race(conn.client.chat.history.query({ sessionId: session.id }));
  } finally {
    await conn.close();
  }
}

function fromStore(dataDir: string, name: string): Promise<Message[]> {
  return withStore(openExistingStore(dataDir), (store) => {
    const session = store.listSessions().find((s) => s.name === name);
    if (!session) throw noSession(name);
    return store.listMessages(session.id);
  });
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(args, {
    data: { type: 'string' },
    session: { type: 'string' },
    json: { type: 'boolean' },
  });
  const dataDir = parseDataDir(values.data);
  const name = values.session?.trim();
  if (!name) throw new UsageError('--session NAME is required');
  const messages = findRunningGateway(dataDir) ? await viaGateway(dataDir, name) : await fromStore(dataDir, name);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(messages, null, 2)}\n`);
    return 0;
  }
  for (const m of messages) {
    const status = m.status === 'done' ? '' : ` [${m.status}]`;
    io.stdout.write(`${m.role}${status}: ${m.text}\n`);
  }
  return 0;
}
