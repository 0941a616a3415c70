/**
 * `autoclaw skills vet`: hashes every file of every skill folder, checks
 * each SKILL.md, and writes manifest.json and manifest.sig signed with the
 * vetting key. Refuses to vet a folder it could not load.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import { parseSkillMd, SKILL_FILE } from '../format/skill-md';
import { hashFolder, MANIFEST_FILE, SIGNATURE_FILE, signEntry, skillFolders, stableJson, type Manifest, type Signatures } from './manifest';

export interface VetResult {
  skills: Array<{ name: string; version: string; files: number }>;
  publicKey: string;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

export function vetSkills(dir: string, privateKey: KeyObject): VetResult {
  const names = skillFolders(dir);
  if (names.length === 0) throw new AppError('NOT_FOUND', `no skill folders (with a ${SKILL_FILE}) in ${dir}`);
  const manifest: Manifest = { format: 1, skills: {} };
  const signatures: Signatures = { format: 1, signatures: {} };
  const skills: VetResult['skills'] = [];
  for (const name of names) {
    const folder = join(dir, name);
    let version: string;
    try {
      const def = parseSkillMd(readFileSync(join(folder, SKILL_FILE), 'utf8'));
      if (def.name !== name) throw new Error(`SKILL.md names "${def.name}", but the folder is "${name}"`);
      version = def.version;
      const files = hashFolder(folder);
      if (!files[def.entry]) throw new Error(`its entry ${def.entry} is missing`);
      manifest.skills[name] = { version, files };
    } catch (err) {
      throw new AppError('BAD_REQUEST', `cannot vet ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const entry = manifest.skills[name]!;
    signatures.signatures[name] = signEntry(name, entry, privateKey);
    skills.push({ name, version, files: Object.keys(entry.files).length });
  }
  writeAtomically(join(dir, MANIFEST_FILE), stableJson(manifest));
  writeAtomically(join(dir, SIGNATURE_FILE), stableJson(signatures));
  return { skills, publicKey: signatures.signatures[names[0]!]!.key };
}
