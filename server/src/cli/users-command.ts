/**
 * `autoclaw users create|reset-password --data DIR --email E`: the password
 * comes on stdin (never an argument: it would show in `ps` and the shell
 * history). Through the running manager when there is one (so its sessions
 * end at once), else straight in its data directory.
 */
import { EmailSchema, PasswordSchema, UserRoleSchema } from '@autoclaw/shared';
import type { ManagerUser, UserRole } from '@autoclaw/shared';
import { UsageError } from '../gateway';
import { findLiveManager, openOfflineManager, openOsKeychain, operatorClient, parseOperatorConfig } from '../manager';
import type { OperatorConfig } from '../manager';
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

/** The manager's state opened by this command (no manager runs). */
function openOffline(config: OperatorConfig, io: CliIO) {
  return openOfflineManager(config.dataDir, stderrLogger(io), {
    database: config.database,
    keychain: () => (config.masterKeyStore === 'file' ? null : openOsKeychain()),
  });
}

async function createUser(config: OperatorConfig, input: { email: string; password: string; role?: UserRole }, io: CliIO): Promise<ManagerUser> {
  const running = await findLiveManager(config.dataDir);
  if (running) return operatorClient(config.dataDir, running).mutation<ManagerUser>('operator.createUser', input);
  const offline = await openOffline(config, io);
  try {
    return await offline.accounts.createUser(input);
  } finally {
    await offline.close();
  }
}

async function resetPassword(config: OperatorConfig, input: { email: string; password: string }, io: CliIO): Promise<void> {
  const running = await findLiveManager(config.dataDir);
  if (running) {
    await operatorClient(config.dataDir, running).mutation('operator.resetPassword', input);
    return;
  }
  const offline = await openOffline(config, io);
  try {
    await offline.accounts.resetPassword(input);
  } finally {
    await offline.close();
  }
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, database: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } }, 1);
  const [action] = positionals;
  if (action !== 'create' && action !== 'reset-password') {
    throw new UsageError(action === undefined ? 'say "create" or "reset-password"' : `unknown action "${action.slice(0, 40)}"`);
  }
  const config = parseOperatorConfig(values);
  if (values.email === undefined) throw new UsageError('--email E is required');
  const email = parseOr('--email', EmailSchema, values.email);
  if (values.role !== undefined && action !== 'create') throw new UsageError('--role goes with "users create"');
  const role = values.role === undefined ? undefined : parseOr('--role', UserRoleSchema, values.role);

  if (io.stdin.isTTY) io.stderr.write(`Password for ${email} (then Enter): `);
  const password = parseOr('password (stdin)', PasswordSchema, await readValue(io.stdin, 4 * 1024));

  if (action === 'create') {
    const user = await createUser(config, { email, password, ...(role ? { role } : {}) }, io);
    io.stdout.write(`created ${user.role} ${user.email} (id ${user.id})\n`);
  } else {
    await resetPassword(config, { email, password }, io);
    io.stdout.write(`password reset for ${email}; every session of this account was signed out\n`);
  }
  return 0;
}
