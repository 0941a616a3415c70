/**
 * Confines a model-supplied path to the instance's workspace directory:
 * relative paths only, no `..` segments, and no symlink that leads outside.
 */
import { mkdir, realpath, lstat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AppError } from '@autoclaw/shared';

const MAX_PATH_CHARS = 512;

/** Checks the text of the path; returns its normalized segments. */
export function workspaceSegments(path: string): string[] {
  if (path.length === 0 || path.length > MAX_PATH_CHARS) {
    throw new AppError('BAD_REQUEST', `Path must be 1–${MAX_PATH_CHARS} characters`);
  }
  if (path.includes('\0')) throw new AppError('BAD_REQUEST', 'Path contains a NUL character');
  // Both separators count so a Windows-style `..\\x` or `C:\\x` is refused everywhere.
  if (isAbsolute(path) || path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path) || path.startsWith('~')) {
    throw new AppError('FORBIDDEN', 'Only paths relative to the workspace are allowed');
  }
  const segments = path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw new AppError('FORBIDDEN', 'Paths must not contain ".."');
  if (segments.length === 0) throw new AppError('BAD_REQUEST', 'Path names no file');
  return segments;
}

function inside(root: string, candidate: string): boolean {
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
 * Resolves `path` inside `workspaceDir` (made on first use). Every existing
 * ancestor is resolved through symlinks and must stay inside the workspace;
 * when `createParents` is set, missing parent directories are made.
 */
export async function resolveWorkspacePath(
  workspaceDir: string,
  path: string,
  opts: { createParents: boolean },
): Promise<{ absolute: string; display: string }> {
  const segments = workspaceSegments(path);
  await mkdir(workspaceDir, { recursive: true });
  const root = await realpath(resolve(workspaceDir));
  const target = join(root, ...segments);
  if (!inside(root, target)) throw new AppError('FORBIDDEN', 'Path leaves the workspace');

  // The deepest existing ancestor (or the target itself) decides where a symlink leads.
  let probe = target;
  while (!(await exists(probe))) probe = resolve(probe, '..');
  const real = await realpath(probe);
  if (!inside(root, real)) throw new AppError('FORBIDDEN', 'Path leads outside the workspace through a symlink');

  if (opts.createParents) {
    const parent = resolve(target, '..');
    await mkdir(parent, { recursive: true });
    if (!inside(root, await realpath(parent))) throw new AppError('FORBIDDEN', 'Path leaves the workspace');
  }
  return { absolute: target, display: segments.join('/') };
}
