/**
 * Opening a workspace file for a tool: regular files only, decided on the
 * open descriptor (fstat after open, never a stat before it), symlinks
 * refused by the kernel (O_NOFOLLOW) and never a wait on a FIFO or device
 * (O_NONBLOCK: an open of a FIFO returns at once). Shared by the core tools
 * and the skill host, so it uses nothing but Node built-ins.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

export type FileRefusalKind =
  | 'bad_path'
  | 'outside'
  | 'not_found'
  | 'directory'
  | 'special'
  | 'symlink'
  | 'permission'
  | 'too_large'
  | 'not_a_folder'
  | 'other';

/** Why a file was refused; `message` names the file only by its workspace-relative path. */
export class FileRefusal extends Error {
  override readonly name = 'FileRefusal';
  constructor(
    readonly kind: FileRefusalKind,
    message: string,
  ) {
    super(message);
  }
}

/** Maps an fs error to a refusal that names `display` (relative), never the absolute path. */
export function refusalOf(err: unknown, display: string): FileRefusal {
  if (err instanceof FileRefusal) return err;
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  switch (code) {
    case 'ENOENT':
      return new FileRefusal('not_found', `No file at ${display}`);
    case 'EISDIR':
      return new FileRefusal('directory', `${display} is a directory`);
    case 'ELOOP':
      return new FileRefusal('symlink', `${display} is a symlink; symlinks are not followed`);
    case 'ENXIO':
      return new FileRefusal('special', `${display} is not a regular file (a FIFO nothing reads from)`);
    case 'EACCES':
    case 'EPERM':
    case 'ERR_ACCESS_DENIED':
      return new FileRefusal('permission', `No permission for ${display}`);
    case 'ENOTDIR':
    case 'EEXIST':
      return new FileRefusal('not_a_folder', `${display}: a part of the path is a file, not a folder`);
    default:
      return new FileRefusal('other', `Could not access ${display}${code ? ` (${code})` : ''}`);
  }
}

/**
 * Opens `absolute` for reading or writing (created 0600 when missing; not
 * truncated until it is known to be a regular file) and checks the
 * descriptor. Throws FileRefusal.
 */
export async function openRegularFile(absolute: string, mode: 'read' | 'write', display: string, maxBytes?: number): Promise<FileHandle> {
  const flags =
    (mode === 'read' ? constants.O_RDONLY : constants.O_WRONLY | constants.O_CREAT) | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let handle: FileHandle;
  try {
    handle = await open(absolute, flags, 0o600);
  } catch (err) {
    throw refusalOf(err, display);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new FileRefusal('directory', `${display} is a directory`);
    if (!info.isFile()) throw new FileRefusal('special', `${display} is not a regular file`);
    if (mode === 'read' && maxBytes !== undefined && info.size > maxBytes) {
      throw new FileRefusal('too_large', `${display} is ${info.size} bytes; the limit is ${maxBytes}`);
    }
    if (mode === 'write') await handle.truncate(0);
    return handle;
  } catch (err) {
    await handle.close().catch(() => {});
    throw refusalOf(err, display);
  }
}

/** Reads a whole regular file as UTF-8 (at most `maxBytes`). */
export async function readRegularFile(absolute: string, display: string, maxBytes: number): Promise<string> {
  const handle = await openRegularFile(absolute, 'read', display, maxBytes);
  try {
    return await handle.readFile({ encoding: 'utf8' });
  } catch (err) {
    throw refusalOf(err, display);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Replaces a regular file's content (text as UTF-8, or bytes; made when missing). */
export async function writeRegularFile(absolute: string, display: string, content: string | Uint8Array): Promise<void> {
  const handle = await openRegularFile(absolute, 'write', display);
  try {
    await handle.writeFile(content);
  } catch (err) {
    throw refusalOf(err, display);
  } finally {
    await handle.close().catch(() => {});
  }
}
