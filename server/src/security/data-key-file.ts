/**
 * `--data-key-file PATH`: a managed instance's data key in a file the
 * platform mounts (on Kubernetes, a Secret volume on a tmpfs), never beside
 * the data it protects. The file must hold exactly 32 bytes, must not lie in
 * (or resolve into) the data directory, and no other user may read or write
 * it. A Kubernetes Secret volume shows its files to the pod's fsGroup
 * (root-owned, mode 0440), so read access for one of this process's own
 * groups is accepted; anything for "others", or group write, is not.
 */
import { closeSync, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import { AppError } from '@autoclaw/shared';
import { DATA_KEY_BYTES } from './key-file';

/** POSIX permission bits have no meaning on Windows; only check them elsewhere. */
const CHECK_MODE = process.platform !== 'win32';

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** True when `path` is `dir` or below it (both already absolute). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function ownGroups(): Set<number> {
  const groups = new Set<number>(process.getgroups?.() ?? []);
  const gid = process.getgid?.();
  if (gid !== undefined) groups.add(gid);
  return groups;
}

/** Why the mode lets someone else at the key, or null when it does not. */
function modeProblem(mode: number, gid: number): string | null {
  if ((mode & 0o007) !== 0) return 'other users can read or write it';
  if ((mode & 0o020) !== 0) return 'its group can write it';
  if ((mode & 0o040) !== 0 && !ownGroups().has(gid)) return 'a group this process is not in can read it';
  return null;
}

export interface DataKeyFileOptions {
  /** The gateway's data directory (absolute); the key file must not be inside it. */
  dataDir: string;
}

/** Reads and checks the 32-byte data key in `path` (see the file comment). */
export function readDataKeyFile(path: string, opts: DataKeyFileOptions): Buffer {
  const real = realpathOr(path);
  if (isInside(realpathOr(opts.dataDir), real) || isInside(opts.dataDir, path)) {
    throw new AppError('FORBIDDEN', `--data-key-file ${path} is inside the data directory; keep the key apart from the data it protects`);
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') throw new AppError('NOT_FOUND', `--data-key-file ${path} does not exist`, { cause: err });
    throw new AppError('FORBIDDEN', `cannot read --data-key-file ${path}: ${code ?? 'error'}`, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new AppError('FORBIDDEN', `--data-key-file ${path} is not a regular file`);
    if (CHECK_MODE) {
      const problem = modeProblem(stat.mode, stat.gid);
      if (problem !== null) {
        const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
        throw new AppError('FORBIDDEN', `--data-key-file ${path} is not private (mode ${mode}: ${problem}); restrict it with \`chmod 600 ${path}\``);
      }
    }
    const key = readFileSync(fd);
    if (key.length !== DATA_KEY_BYTES) {
      key.fill(0);
      throw new AppError('FORBIDDEN', `--data-key-file ${path} holds ${key.length} bytes, not the ${DATA_KEY_BYTES} of a data key`);
    }
    return key;
  } finally {
    closeSync(fd);
  }
}
