/**
 * Files in the instance's workspace. Both tools are risky: the user approves
 * each call. Paths are confined to the workspace (see workspace-path.ts) and
 * sizes are capped so one call cannot fill the disk or the context.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '@autoclaw/shared';
import { defineTool, type RegisteredTool } from './registry';
import { resolveWorkspacePath } from './workspace-path';

/** Largest file the tools read or write. */
export const WORKSPACE_FILE_MAX_BYTES = 1024 * 1024;

const PathInput = z.string().min(1).max(512).describe('Path relative to the workspace, e.g. "notes/todo.md"');

function fsMessage(err: unknown, display: string): never {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') throw new AppError('NOT_FOUND', `No file at ${display}`);
  if (code === 'EISDIR') throw new AppError('BAD_REQUEST', `${display} is a directory`);
  if (code === 'ELOOP') throw new AppError('FORBIDDEN', `${display} is a symlink; symlinks are not followed`);
  if (code === 'EACCES' || code === 'EPERM') throw new AppError('FORBIDDEN', `No permission for ${display}`);
  if (err instanceof AppError) throw err;
  throw new AppError('INTERNAL', `Could not access ${display}${code ? ` (${code})` : ''}`);
}

export const workspaceReadFile: RegisteredTool = defineTool({
  name: 'workspace_read_file',
  description: 'Read a UTF-8 text file from your workspace directory (at most 1 MB). Needs the user\'s approval.',
  risky: true,
  input: z.object({ path: PathInput }),
  async run({ path }, ctx) {
    const { absolute, display } = await resolveWorkspacePath(ctx.workspaceDir, path, { createParents: false });
    try {
      const info = await stat(absolute);
      if (info.isDirectory()) throw Object.assign(new Error('dir'), { code: 'EISDIR' });
      if (info.size > WORKSPACE_FILE_MAX_BYTES) {
        throw new AppError('PAYLOAD_TOO_LARGE', `${display} is ${info.size} bytes; the limit is ${WORKSPACE_FILE_MAX_BYTES}`);
      }
      const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return await handle.readFile({ encoding: 'utf8' });
      } finally {
        await handle.close();
      }
    } catch (err) {
      fsMessage(err, display);
    }
  },
});

export const workspaceWriteFile: RegisteredTool = defineTool({
  name: 'workspace_write_file',
  description:
    'Write (create or replace) a UTF-8 text file in your workspace directory, making folders as needed (at most 1 MB). ' +
    'Needs the user\'s approval.',
  risky: true,
  input: z.object({ path: PathInput, content: z.string().describe('The whole new content of the file') }),
  async run({ path, content }, ctx) {
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > WORKSPACE_FILE_MAX_BYTES) {
      throw new AppError('PAYLOAD_TOO_LARGE', `Content is ${bytes} bytes; the limit is ${WORKSPACE_FILE_MAX_BYTES}`);
    }
    const { absolute, display } = await resolveWorkspacePath(ctx.workspaceDir, path, { createParents: true });
    try {
      // O_NOFOLLOW: a symlink planted at the target is refused instead of followed.
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
      const handle = await open(absolute, flags, 0o644);
      try {
        await handle.writeFile(content, 'utf8');
      } finally {
        await handle.close();
      }
    } catch (err) {
      fsMessage(err, display);
    }
    return `Wrote ${bytes} bytes to ${display}`;
  },
});
