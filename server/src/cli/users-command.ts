/**
 * `autoclaw users create|reset-password --data DIR --email E`: the password
 * comes on stdin (never an argument: it would show in `ps` and the shell
 * history). Through the running manager when there is one (so its sessions
 * end at once), else straight in its data directory.
 */
import { EmailSchema, PasswordSchema, UserRoleSchema } from '@autoclaw/shared';
import type { ManagerUser, UserRole } from '@autoclaw/shared';
import { parseDataDir, UsageError } from '../gateway';
import { findLiveManager, openOfflineManager, operatorClient } from '../manager';
import { parseFlags } from './args';
import { readValue } from './config-command';
import type { CliIO } from './io';

function stderrLogger(io: CliIO) {
  const line = (level: string) => (msg: string) => void io.stderr.write(`${JSON.stringify({ level, msg })}\n`);
  return { debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };
}

function parseOr<T>(what: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } } }, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${what}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

async function createUser(dataDir: string, input: { email: string; password: string; role?: UserRole }, io: CliIO): Promise<ManagerUser> {
  const running = await findLiveManager(dataDir);
  if (running) return operatorClient(dataDir, running).mutation<ManagerUser>('operator.createUser', input);
  const offline = openOfflineManager(dataDir, stderrLogger(io));
  try {
    return await offline.accounts.createUser(input);
  } finally {
    offline.close();
  }
}

async function resetPassword(dataDir: string, input: { email: string; password: string }, io: CliIO): Promise<void> {
  const running = await findLiveManager(dataDir);
  if (running) {
    await operatorClient(dataDir, running).mutation('operator.resetPassword', input);
    return;
  }
  const offline = openOfflineManager(dataDir, stderrLogger(io));
  try {
    await offline.accounts.resetPassword(input);
  } finally {
    offline.close();
  }
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } }, 1);
  const [action] = positionals;
  if (action !== 'create' && action !== 'reset-password') {
    throw new UsageError(action === undefined ? 'say "create" or "reset-password"' : `unknown action "${action.slice(0, 40)}"`);
  }
  const dataDir = parseDataDir(values.data);
  if (values.email === undefined) throw new UsageError('--email E is required');
  const email = parseOr('--email', EmailSchema, values.email);
  if (values.role !== undefined && action !== 'create') throw new UsageError('--role goes with "users create"');
  const role = values.role === undefined ? undefined : parseOr('--role', UserRoleSchema, values.role);

  if (io.stdin.isTTY) io.stderr.write(`Password for ${email} (then Enter): `);
  const password = parseOr('password (stdin)', PasswordSchema, await readValue(io.stdin, 4 * 1024));

  if (action === 'create') {
    const user = await createUser(dataDir, { email, password, ...(role ? { role } : {}) }, io);
    io.stdout.write(`created ${user.role} ${user.email} (id ${user.id})\n`);
  } else {
    await resetPassword(dataDir, { email, password }, io);
    io.stdout.write(`password reset for ${email}; every session of this account was signed out\n`);
  }
  return 0;
}
