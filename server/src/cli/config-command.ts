/**
 * `autoclaw config set --data DIR KEY`: the value comes on stdin (so it
 * stays out of shell history and `ps`); secrets are stored encrypted under
 * the data key. Prints what was set, never the value of a secret.
 * `autoclaw config audit --data DIR`: the gateway's audit log, newest first.
 */
import { CHANNEL_ENDPOINT_SECRETS, ENDPOINT_KEY_OF, SETTING_KEYS, SettingKey, type ChannelSettingKey } from '@autoclaw/shared';
import type { GatewayAuditEntry } from '@autoclaw/shared';
import { envNameOf, parseDataDir, parseEnv, UsageError, dataKeyPath, findRunningGateway } from '../gateway';
import { loadOrCreateKeyFile, createSettings, isSecretSetting, createVault, loadOperatorKey } from '../security';
import { parseFlags } from './args';
import { openExistingStore, openOrCreateStore, withStore } from './data-store';
import type { CliIO } from './io';
import { connectRunning } from './running-gateway';

/** All of stdin, or one line when it is a terminal; without the trailing newline. */
export async function readValue(stdin: CliIO['stdin'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buf);
    size += buf.length;
    if (size > limit) throw new UsageError(`the value is longer than ${limit} bytes`);
    if (stdin.isTTY && buf.includes(10)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const firstLine = stdin.isTTY ? (text.split('\n')[0] ?? '') : text;
  return firstLine.replace(/\r?\n$/, '');
}

/** The newest `limit` entries: through the running gateway (as the operator) or straight from the store. */
async function auditEntries(dataDir: string, limit: number): Promise<GatewayAuditEntry[]> {
  if (findRunningGateway(dataDir)) {
    const conn = connectRunning(dataDir, loadOperatorKey);
    try {
      const out: GatewayAuditEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await conn.call(conn.client.audit.list.query({ limit: Math.min(100, limit - out.length), ...(cursor === undefined ? {} : { cursor }) }));
        out.push(...page.entries);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && out.length < limit);
      return out;
    } finally {
      await conn.close();
    }
  }
  return withStore(openExistingStore(dataDir), (store) => store.listAudit({ limit }));
}

async function audit(dataDir: string, values: { json?: boolean; limit?: string }, io: CliIO): Promise<number> {
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1_000) throw new UsageError('--limit must be 1–1000');
  const entries = await auditEntries(dataDir, limit);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) io.stdout.write('no changes recorded yet\n');
  for (const e of entries) {
    const when = new Date(e.at).toISOString().replace(/\.\d+Z$/, 'Z');
    const change = e.oldValue !== null || e.newValue !== null ? ` ${e.oldValue ?? '-'} → ${e.newValue ?? '-'}` : '';
    io.stdout.write(`${when}  ${(e.deviceId ?? 'local CLI').padEnd(22)}  ${e.action} ${e.target}${change}${e.detail ? ` (${e.detail})` : ''}\n`);
  }
  return 0;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } }, 2);
  const [action, rawKey] = positionals;
  if (action === 'audit') {
    if (rawKey !== undefined) throw new UsageError('config audit takes no KEY');
    return audit(parseDataDir(values.data), values, io);
  }
  if (action !== 'set') throw new UsageError(action === undefined ? 'say "set" or "audit"' : `unknown action "${action.slice(0, 40)}"`);
  if (values.json || values.limit !== undefined) throw new UsageError('--json and --limit go with "config audit"');
  const dataDir = parseDataDir(values.data);
  const parsedKey = SettingKey.safeParse(rawKey);
  if (!parsedKey.success) throw new UsageError(`KEY must be one of: ${SETTING_KEYS.join(', ')}`);
  const key = parsedKey.data;
  const env = parseEnv();

  if (io.stdin.isTTY) io.stderr.write(`Value for ${key} (then Enter): `);
  const value = await readValue(io.stdin, 16 * 1024);
  const vault = createVault(loadOrCreateKeyFile(dataKeyPath(dataDir)));
  // The keys sent to this endpoint: a changed endpoint clears them.
  const endpointKey = ENDPOINT_KEY_OF[key];
  const pairedKeys: SettingKey[] = [...(endpointKey === undefined ? [] : [endpointKey]), ...(CHANNEL_ENDPOINT_SECRETS[key as ChannelSettingKey] ?? [])];
  const cleared = await withStore(openOrCreateStore(dataDir), (store) => {
    const settings = createSettings({ store, vault, env });
    const had = pairedKeys.filter((k) => settings.view().values[k]?.source === 'stored');
    const after = settings.set(key, value === '' ? null : value);
    return had.filter((k) => after.values[k]?.source !== 'stored');
  });

  const secret = isSecretSetting(key);
  for (const pairedKey of cleared) {
    io.stderr.write(`note: the stored ${pairedKey} was for the old endpoint and is cleared; set it again with "autoclaw config set --data ${dataDir} ${pairedKey}"\n`);
  }
  if (value === '') io.stdout.write(`cleared ${key}\n`);
  else if (secret) io.stdout.write(`set ${key} (stored encrypted)\n`);
  else io.stdout.write(`set ${key} = ${value.trim()}\n`);
  const envName = envNameOf(key);
  if (envName !== undefined && env[key] !== undefined) {
    io.stderr.write(`note: ${envName} is set in this environment; a gateway started with it uses that value instead\n`);
  }
  return 0;
}
