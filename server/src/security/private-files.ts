/**
 * Data directories are 0700 and the files in them 0600: what a gateway or
 * manager keeps (databases, keys, runtime files) is nobody else's business.
 * An existing directory that others may read (made by hand, or by an older
 * version) is tightened; when it cannot be (another user owns it), the
 * caller is told why so it can warn. Database files: store/private-db-file.ts.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
/** POSIX permission bits have no meaning on Windows. */
const POSIX = process.platform !== 'win32';

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
}

/**
 * Makes `dir` (with missing parents, 0700) or tightens an existing one to
 * 0700. Returns a warning (with the reason and the command to run) when an
 * existing directory stays readable by others. `chmod` is replaceable so
 * tests can see a refusal without touching a system directory.
 */
export function ensurePrivateDir(dir: string, chmod: (path: string, mode: number) => void = chmodSync): string | null {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const current = statSync(dir).mode;
  if (!POSIX || (current & 0o077) === 0) return null;
  try {
    chmod(dir, PRIVATE_DIR_MODE);
    return null;
  } catch (err) {
    return `data directory ${dir} can be read by other users (mode ${octal(current)}) and could not be restricted (${errnoOf(err)}); run \`chmod 700 ${dir}\``;
  }
}
