/**
 * SQLite files are private (0600): the store creates its database file with
 * that mode before SQLite opens it — SQLite gives the -wal and -shm files the
 * mode of the database — and tightens a database (or -wal, -shm) an older
 * version left readable by others. The manager's database uses it too.
 */
import { closeSync, fchmodSync, fstatSync, openSync } from 'node:fs';

const PRIVATE_FILE_MODE = 0o600;
/** POSIX permission bits have no meaning on Windows. */
const POSIX = process.platform !== 'win32';

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
}

/** Prepares `path` for SQLite; returns a warning (with the reason) when a file stays readable by others. */
export function preparePrivateDbFile(path: string): string | null {
  let warning: string | null = null;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let fd: number;
    try {
      // 'a' creates the main file when missing and never truncates; the others are only opened when they exist.
      fd = openSync(file, file === path ? 'a' : 'r+', PRIVATE_FILE_MODE);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue;
      throw err;
    }
    try {
      const current = fstatSync(fd).mode;
      if (POSIX && (current & 0o077) !== 0) {
        try {
          fchmodSync(fd, PRIVATE_FILE_MODE);
        } catch (err) {
          const octal = (current & 0o777).toString(8).padStart(4, '0');
          warning ??= `database file ${file} can be read by other users (mode ${octal}) and could not be restricted (${errnoOf(err)}); run \`chmod 600 ${file}\``;
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  return warning;
}
