/**
 * `autoclaw skills …`: vet and verify a skills folder (no gateway needed),
 * and list, enable or disable the skills of a data directory (through the
 * running gateway, so it takes effect at once, or the store directly).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSkillsPubkey, UsageError } from '../gateway';
import { privateKeyFromPem } from '../security';
import { trustedSkillKeys, verifySkills, vetSkills } from '../skills';
import { parseFlags } from './args';
import type { CliIO } from './io';

function vet(args: string[], io: CliIO): number {
  const { values, positionals } = parseFlags(args, { key: { type: 'string' } }, 1);
  const dir = positionals[0];
  if (!dir) throw new UsageError('skills vet needs the skills folder: autoclaw skills vet DIR --key FILE');
  if (!values.key) throw new UsageError('--key FILE (the Ed25519 vetting private key, PEM) is required');
  let pem: Buffer;
  try {
    pem = readFileSync(values.key);
  } catch {
    throw new UsageError(`--key: cannot read ${values.key}`);
  }
  let key;
  try {
    key = privateKeyFromPem(pem);
  } catch {
    throw new UsageError('--key must be an Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)');
  }
  const result = vetSkills(resolve(dir), key);
  for (const s of result.skills) io.stdout.write(`vetted ${s.name} ${s.version} (${s.files} files)\n`);
  io.stdout.write(`signed with public key ${result.publicKey}\n`);
  return 0;
}

function verify(args: string[], io: CliIO): number {
  const { values, positionals } = parseFlags(args, { 'skills-pubkey': { type: 'string', multiple: true }, json: { type: 'boolean' } }, 1);
  const dir = positionals[0];
  if (!dir) throw new UsageError('skills verify needs the skills folder: autoclaw skills verify DIR');
  const keys = trustedSkillKeys((values['skills-pubkey'] ?? []).map(parseSkillsPubkey));
  const verified = verifySkills(resolve(dir), keys);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(verified.map((s) => ({ name: s.name, ok: s.ok, reason: s.ok ? null : s.reason })), null, 2)}\n`);
  } else {
    for (const s of verified) io.stdout.write(s.ok ? `ok       ${s.name} ${s.definition.version}\n` : `refused  ${s.name}: ${s.reason}\n`);
  }
  if (verified.length === 0) io.stderr.write(`no skill folders in ${dir}\n`);
  return verified.length > 0 && verified.every((s) => s.ok) ? 0 : 1;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'vet':
      return vet(rest, io);
    case 'verify':
      return verify(rest, io);
    case 'list':
    case 'enable':
    case 'disable':
    case 'approvals':
    case 'revoke': {
      const { runAdmin } = await import('./skills-admin');
      return runAdmin(action, rest, io);
    }
    default:
      throw new UsageError(action === undefined ? 'say vet, verify, list, enable, disable, approvals or revoke' : `unknown action "${action.slice(0, 40)}"`);
  }
}
