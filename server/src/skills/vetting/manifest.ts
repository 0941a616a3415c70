/**
 * The vetting manifest of a skills folder: `manifest.json` lists every
 * vetted skill with the SHA-256 of each of its files; `manifest.sig` holds an
 * Ed25519 signature per skill (over a canonical text of its entry), so an
 * edit of one skill's entry, or one skill signed by another key, refuses
 * that skill alone.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { SkillName } from '@autoclaw/shared';
import { rawPublicKey, signPayload } from '../../security';
import { SKILL_FILE } from '../format/skill-md';

export { hashFolder, sha256, SkillFileError } from './hash-folder';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
const SIGNED_CONTEXT = 'autoclaw-skill/v1';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
/** Relative paths with `/`, no dot segments (checked again against the folder's real listing). */
const RelPath = z.string().regex(/^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*$/);

export const ManifestEntrySchema = z.object({ version: z.string().max(40), files: z.record(RelPath, Sha256) }).strict();
export type ManifestEntry = z.infer<typeof ManifestEntrySchema>;
export const ManifestSchema = z.object({ format: z.literal(1), skills: z.record(SkillName, ManifestEntrySchema) }).strict();
export type Manifest = z.infer<typeof ManifestSchema>;

export const SignatureSchema = z.object({ key: z.string().length(43), sig: z.string().length(86) }).strict();
export const SignaturesSchema = z.object({ format: z.literal(1), signatures: z.record(SkillName, SignatureSchema) }).strict();
export type Signatures = z.infer<typeof SignaturesSchema>;

/** What a skill's signature covers: its name, version and every file's hash, in a fixed order. */
export function signedPayload(name: string, entry: ManifestEntry): string {
  const files = Object.entries(entry.files)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, sha]) => `file ${sha} ${path}\n`)
    .join('');
  return `${SIGNED_CONTEXT}\nname ${name}\nversion ${entry.version}\n${files}`;
}


/** Folders of `dir` that hold a SKILL.md (node_modules and dot folders are not skills). */
export function skillFolders(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .filter((e) => {
      try {
        return lstatSync(join(dir, e.name, SKILL_FILE)).isFile();
      } catch {
        return false;
      }
    })
    .map((e) => e.name)
    .sort();
}

export function signEntry(name: string, entry: ManifestEntry, privateKey: KeyObject): z.infer<typeof SignatureSchema> {
  return { key: rawPublicKey(privateKey), sig: signPayload(privateKey, signedPayload(name, entry)) };
}

/** JSON text with sorted keys and a final newline (manifests diff cleanly). */
export function stableJson(value: Manifest | Signatures): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sortKeys(x)]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}
