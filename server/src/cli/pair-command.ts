/** `autoclaw pair`: prints a one-time pairing code (the store keeps only its hash). */
import { parseDataDir } from '../gateway';
import { issuePairingCode, PAIRING_CODE_TTL_MS } from '../security';
import { parseFlags } from './args';
import { openOrCreateStore, withStore } from './data-store';
import type { CliIO } from './io';

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(args, { data: { type: 'string' } });
  const dataDir = parseDataDir(values.data);
  const { code } = await withStore(openOrCreateStore(dataDir), (store) => issuePairingCode(store, Date.now()));
  io.stdout.write(`${code}\n`);
  io.stderr.write(`One-time pairing code, valid ${PAIRING_CODE_TTL_MS / 60_000} minutes: enter it in WebChat to pair.\n`);
  return 0;
}
