/**
 * Confines a model-supplied path to a folder (the workspace, or a skill's
 * scope inside it): relative paths only, no `..` segments, and no symlink
 * that leads outside. Errors name the path as given, never the absolute one.
 * Node built-ins only: the skill host uses it too.
 */
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FileRefusal, refusalOf } from '../safe-file';

const MAX_PATH_CHARS = 512;

/** Checks the text of the path; returns its normalized segments. */
export function workspaceSegments(path: string): string[] {
  if (path.length === 0 || path.length > MAX_PATH_CHARS) throw new FileRefusal('bad_path', `Path must be 1–${MAX_PATH_CHARS} characters`);
  if (path.includes('\0')) throw new FileRefusal('bad_path', 'Path contains a NUL character');
  // Both separators count so a Windows-style `..\\x` or `C:\\x` is refused everywhere.
  if (isAbsolute(path) || path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path) || path.startsWith('~')) {
    throw new FileRefusal('outside', 'Only paths relative to the workspace are allowed');
  }
  const segments = path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw new FileRefusal('outside', 'Paths must not contain ".."');
  if (segments.length === 0) throw new FileRefusal('bad_path', 'Path names no file');
  return segments;
}

export function isInsideDir(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves `path` inside `rootDir` (made on first use). Every existing
 * ancestor is resolved through symlinks and must stay inside the root; when
 * `createParents` is set, missing parent directories are made (0700).
 */
export async function resolveWorkspacePath(
  rootDir: string,
  path: string,
  opts: { createParents: boolean },
): Promise<{ absolute: string; display: string }> {
  const segments = workspaceSegments(path);
  const display = segments.join('/');
  try {
    await mkdir(rootDir, { recursive: true, mode: 0o700 });
    const root = await realpath(resolve(rootDir));
    const target = join(root, ...segments);
    if (!isInsideDir(root, target)) throw new FileRefusal('outside', 'Path leaves the workspace');

    // The deepest existing ancestor (or the target itself) decides where a symlink leads.
    let probe = target;
    while (!(await exists(probe))) probe = resolve(probe, '..');
    const real = await realpath(probe);
    if (!isInsideDir(root, real)) throw new FileRefusal('outside', 'Path leads outside the workspace through a symlink');

    if (opts.createParents) {
      const parent = resolve(target, '..');
      await mkdir(parent, { recursive: true, mode: 0o700 });
      if (!isInsideDir(root, await realpath(parent))) throw new FileRefusal('outside', 'Path leaves the workspace');
    }
    return { absolute: target, display };
  } catch (err) {
    throw refusalOf(err, display);
  }
}
