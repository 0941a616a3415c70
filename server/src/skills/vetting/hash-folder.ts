/**
 * The SHA-256 of every file of a skill folder. Node built-ins only: the
 * skill host hashes the folder again right before it imports the skill.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_FILES = 200;
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** A file of a skill folder that cannot be vetted or loaded (symlink, special file, too big). */
export class SkillFileError extends Error {
  override readonly name = 'SkillFileError';
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Every file of a skill folder with its SHA-256 (paths relative, `/`).
 * Symlinks and special files are refused: what is vetted is what runs.
 */
export function hashFolder(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(folder, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isSymbolicLink()) throw new SkillFileError(`${path} is a symlink`);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (!entry.isFile()) throw new SkillFileError(`${path} is not a regular file`);
      if (Object.keys(out).length >= MAX_FILES) throw new SkillFileError(`more than ${MAX_FILES} files`);
      const bytes = readFileSync(join(folder, path));
      if (bytes.length > MAX_FILE_BYTES) throw new SkillFileError(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
      out[path] = sha256(bytes);
    }
  };
  walk('');
  return out;
}

