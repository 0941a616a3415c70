/** `autoclaw pair [--role owner|chat]`: prints a one-time pairing code (the store keeps only its hash). */
import { DeviceRole } from '@autoclaw/shared';
import { parseDataDir, UsageError } from '../gateway';
import { issuePairingCode, PAIRING_CODE_TTL_MS } from '../security';
import { parseFlags } from './args';
import { openOrCreateStore, withStore } from './data-store';
import type { CliIO } from './io';

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(args, { data: { type: 'string' }, role: { type: 'string' } });
  const dataDir = parseDataDir(values.data);
  const role = values.role === undefined ? undefined : DeviceRole.safeParse(values.role);
  if (role !== undefined && !role.success) throw new UsageError(`--role must be owner or chat (got "${String(values.role).slice(0, 20)}")`);
  const { code } = await withStore(openOrCreateStore(dataDir), (store) => issuePairingCode(store, Date.now(), role ? { role: role.data } : {}));
  const as = role ? `as ${role.data}` : 'as owner if it is the first device, else for chat only (--role to choose)';
  io.stdout.write(`${code}\n`);
  io.stderr.write(`One-time pairing code, valid ${PAIRING_CODE_TTL_MS / 60_000} minutes: enter it in WebChat to pair ${as}.\n`);
  return 0;
}
