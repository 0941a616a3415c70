/**
 * `autoclaw config set --data DIR KEY`: the value comes on stdin (so it
 * stays out of shell history and `ps`); secrets are stored encrypted under
 * the data key. Prints what was set, never the value of a secret.
 */
import { SETTING_KEYS, SettingKey } from '@autoclaw/shared';
import { envNameOf, parseDataDir, parseEnv, UsageError, dataKeyPath } from '../gateway';
import { loadOrCreateKeyFile, createSettings, isSecretSetting, createVault } from '../security';
import { parseFlags } from './args';
import { openOrCreateStore, withStore } from './data-store';
import type { CliIO } from './io';

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

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' } }, 2);
  const [action, rawKey] = positionals;
  if (action !== 'set') throw new UsageError(action === undefined ? 'say "set"' : `unknown action "${action.slice(0, 40)}"`);
  const dataDir = parseDataDir(values.data);
  const parsedKey = SettingKey.safeParse(rawKey);
  if (!parsedKey.success) throw new UsageError(`KEY must be one of: ${SETTING_KEYS.join(', ')}`);
  const key = parsedKey.data;
  const env = parseEnv();

  if (io.stdin.isTTY) io.stderr.write(`Value for ${key} (then Enter): `);
  const value = await readValue(io.stdin, 16 * 1024);
  const vault = createVault(loadOrCreateKeyFile(dataKeyPath(dataDir)));
  await withStore(openOrCreateStore(dataDir), (store) => createSettings({ store, vault, env }).set(key, value === '' ? null : value));

  const secret = isSecretSetting(key);
  if (value === '') io.stdout.write(`cleared ${key}\n`);
  else if (secret) io.stdout.write(`set ${key} (stored encrypted)\n`);
  else io.stdout.write(`set ${key} = ${value.trim()}\n`);
  const envName = envNameOf(key);
  if (envName !== undefined && env[key] !== undefined) {
    io.stderr.write(`note: ${envName} is set in this environment; a gateway started with it uses that value instead\n`);
  }
  return 0;
}
