/**
 * `autoclaw audit verify --data DIR [--database URL] [--public-key KEY] [--json]`:
 * checks the manager's audit log straight from its state (read-only), whether or not
 * the manager runs — a verifier should not have to trust the program it
 * checks. Exit 0 when intact, 1 naming the first bad entry.
 */
import { UsageError } from '../gateway';
import { openOsKeychain, parseOperatorConfig, verifyAuditFiles } from '../manager';
import { parseFlags } from './args';
import type { CliIO } from './io';

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, database: { type: 'string' }, 'public-key': { type: 'string' }, json: { type: 'boolean' } }, 1);
  const [action] = positionals;
  if (action !== 'verify') throw new UsageError(action === undefined ? 'say "verify"' : `unknown action "${action.slice(0, 40)}"`);
  const config = parseOperatorConfig(values);
  const result = await verifyAuditFiles(config.dataDir, {
    database: config.database,
    ...(values['public-key'] === undefined ? {} : { publicKey: values['public-key'] }),
    keychain: () => (config.masterKeyStore === 'file' ? null : openOsKeychain()),
  });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  if (result.ok) {
    const lag = result.signedCount !== null && result.signedCount < result.count ? ` (the newest ${result.count - result.signedCount} signed one by one, head not yet updated)` : '';
    io.stdout.write(`audit log intact: ${result.count} entries, head signed${lag}; manager public key ${result.publicKey}\n`);
    return 0;
  }
  io.stdout.write(`audit log NOT intact: ${result.problem ?? 'unknown problem'}\n`);
  if (result.firstBadSeq !== null) io.stdout.write(`first bad entry: ${result.firstBadSeq}\n`);
  return 1;
}
