/**
 * Secret files (the data key, the operator device key): mode 0600, written
 * atomically (temp file made with O_EXCL and mode 0600, fsynced, then renamed
 * or linked into place), and refused when group or others can read them.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AppError } from '@autoclaw/shared';

export const DATA_KEY_BYTES = 32;

const SECRET_MODE = 0o600;
/** POSIX permission bits have no meaning on Windows; only check them elsewhere. */
const CHECK_MODE = process.platform !== 'win32';

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Reads a secret file after checking that only its owner can read it. */
export function readSecretFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') throw new AppError('NOT_FOUND', `secret file ${path} does not exist`, { cause: err });
    throw new AppError('FORBIDDEN', `cannot read secret file ${path}: ${errnoOf(err) ?? 'error'}`, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new AppError('FORBIDDEN', `secret file ${path} is not a regular file`);
    if (CHECK_MODE && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new AppError(
        'FORBIDDEN',
        `secret file ${path} can be read or written by other users (mode ${mode}); ` +
          `restrict it with \`chmod 600 ${path}\` and start again`,
      );
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  // Makes the new directory entry durable; not every platform can open a directory.
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort: the file's own data is already fsynced
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to a fresh 0600 temp file beside `path` and fsyncs it. */
function writeTemp(path: string, data: string | Buffer): string {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', SECRET_MODE);
  try {
    fchmodSync(fd, SECRET_MODE); // the umask may have taken bits away; make it exactly 0600
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(temp);
    throw err;
  }
  closeSync(fd);
  return temp;
}

/**
 * Writes a secret file atomically with mode 0600. With `exclusive`, fails
 * with CONFLICT when the file already exists (it is never overwritten), so
 * two processes creating the same key cannot both win.
 */
export function writeSecretFile(path: string, data: string | Buffer, opts: { exclusive?: boolean } = {}): void {
  let temp: string;
  try {
    temp = writeTemp(path, data);
  } catch (err) {
    throw new AppError('INTERNAL', `cannot write secret file ${path}: ${errnoOf(err) ?? 'error'}`, { cause: err });
  }
  try {
    if (opts.exclusive) {
      // link() fails with EEXIST instead of replacing: an atomic create-if-absent.
      linkSync(temp, path);
      unlinkSync(temp);
    } else {
      renameSync(temp, path);
    }
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    if (errnoOf(err) === 'EEXIST') throw new AppError('CONFLICT', `secret file ${path} already exists`, { cause: err });
    throw new AppError('INTERNAL', `cannot write secret file ${path}: ${errnoOf(err) ?? 'error'}`, { cause: err });
  }
  fsyncDir(dirname(path));
}

function checkKeyLength(path: string, key: Buffer): Buffer {
  if (key.length !== DATA_KEY_BYTES) {
    throw new AppError(
      'FORBIDDEN',
      `key file ${path} holds ${key.length} bytes, not the ${DATA_KEY_BYTES} of a data key; ` +
        'it is damaged or not a key file (restore it from a backup — a new key cannot read stored secrets)',
    );
  }
  return key;
}

/** The 32-byte data key in `path`, made (random, mode 0600) on first use. */
export function loadOrCreateKeyFile(path: string): Buffer {
  try {
    return checkKeyLength(path, readSecretFile(path));
  } catch (err) {
    if (!AppError.is(err, 'NOT_FOUND')) throw err;
  }
  try {
    writeSecretFile(path, randomBytes(DATA_KEY_BYTES), { exclusive: true });
  } catch (err) {
    // Another process made the key first: use theirs.
    if (!AppError.is(err, 'CONFLICT')) throw err;
  }
  return checkKeyLength(path, readSecretFile(path));
}
