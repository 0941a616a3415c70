/**
 * Checks a skills folder against its vetting manifest, skill by skill: the
 * signature (by a trusted key) over the skill's entry, then every file's
 * bytes. Any mismatch, an unlisted or missing file, a bad or untrusted
 * signature, or no manifest at all refuses that skill (never the others,
 * never the gateway) with a reason a person can act on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePublicKey, verifyPayload } from '../../security';
import { parseSkillMd, SKILL_FILE, type SkillDefinition } from '../format/skill-md';
import {
  hashFolder,
  MANIFEST_FILE,
  ManifestSchema,
  SIGNATURE_FILE,
  SignaturesSchema,
  signedPayload,
  skillFolders,
  type Manifest,
  type Signatures,
} from './manifest';

export type VerifiedSkill =
  | { name: string; ok: true; folder: string; definition: SkillDefinition; files: Record<string, string> }
  /** `definition` when SKILL.md could still be read (to show what the refused skill is). */
  | { name: string; ok: false; reason: string; definition: SkillDefinition | null };

function readJson<T>(path: string, parse: (v: unknown) => T, what: string): T | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return `no ${what} (the skills folder was never vetted)`;
  }
  try {
    return parse(JSON.parse(text));
  } catch {
    return `${what} is not valid`;
  }
}

function peekDefinition(folder: string): SkillDefinition | null {
  try {
    return parseSkillMd(readFileSync(join(folder, SKILL_FILE), 'utf8'));
  } catch {
    return null;
  }
}

function compareFiles(listed: Record<string, string>, actual: Record<string, string>): string | null {
  for (const path of Object.keys(actual).sort()) {
    if (listed[path] === undefined) return `${path} was added after vetting (not in the manifest)`;
  }
  for (const [path, sha] of Object.entries(listed)) {
    if (actual[path] === undefined) return `${path} is missing (listed in the manifest)`;
    if (actual[path] !== sha) return `${path} changed after vetting (its SHA-256 does not match the manifest)`;
  }
  return null;
}

function verifyOne(
  dir: string,
  name: string,
  manifest: Manifest | string,
  signatures: Signatures | string,
  trusted: ReadonlySet<string>,
): VerifiedSkill {
  const folder = join(dir, name);
  const refuse = (reason: string): VerifiedSkill => ({ name, ok: false, reason, definition: peekDefinition(folder) });
  if (typeof manifest === 'string') return refuse(manifest);
  if (typeof signatures === 'string') return refuse(signatures);
  const entry = manifest.skills[name];
  if (!entry) return refuse('not in the vetting manifest (never vetted)');
  const signature = signatures.signatures[name];
  if (!signature) return refuse(`no signature in ${SIGNATURE_FILE}`);
  const key = parsePublicKey(signature.key);
  if (!key || !verifyPayload(key, signedPayload(name, entry), signature.sig)) {
    return refuse('its manifest entry does not match its signature (the manifest was edited after vetting)');
  }
  if (!trusted.has(signature.key)) return refuse(`signed by a key this gateway does not trust (${signature.key})`);
  let actual: Record<string, string>;
  try {
    actual = hashFolder(folder);
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
  const mismatch = compareFiles(entry.files, actual);
  if (mismatch) return refuse(mismatch);
  let definition: SkillDefinition;
  try {
    definition = parseSkillMd(readFileSync(join(folder, SKILL_FILE), 'utf8'));
  } catch (err) {
    return { name, ok: false, reason: `SKILL.md is invalid: ${err instanceof Error ? err.message : String(err)}`, definition: null };
  }
  if (definition.name !== name) return refuse(`SKILL.md names "${definition.name}", but the folder is "${name}"`);
  if (definition.version !== entry.version) return refuse('its version differs from the manifest');
  if (!actual[definition.entry]) return refuse(`its entry ${definition.entry} is missing`);
  return { name, ok: true, folder, definition, files: actual };
}

/** Every skill folder of `dir`, verified against the manifest with the trusted public keys (base64url). */
export function verifySkills(dir: string, trustedKeys: readonly string[]): VerifiedSkill[] {
  const manifest = readJson(join(dir, MANIFEST_FILE), (v) => ManifestSchema.parse(v), MANIFEST_FILE);
  const signatures = readJson(join(dir, SIGNATURE_FILE), (v) => SignaturesSchema.parse(v), SIGNATURE_FILE);
  const trusted = new Set(trustedKeys);
  return skillFolders(dir).map((name) => verifyOne(dir, name, manifest, signatures, trusted));
}
