/**
 * Files in the instance's workspace. Both tools are risky: the user approves
 * each call. Paths are confined to the workspace (see workspace-path.ts),
 * only regular files are opened (safe-file.ts: no FIFO, device or symlink
 * can make a call wait or escape), and sizes are capped so one call cannot
 * fill the disk or the context.
 */
import { z } from 'zod';
import { AppError } from '@autoclaw/shared';
import { defineTool, type InProcessTool } from '../define-tool';
import { readRegularFile, writeRegularFile } from '../safe-file';
import { resolveWorkspacePath } from './workspace-path';

/** Largest file the tools read or write. */
export const WORKSPACE_FILE_MAX_BYTES = 1024 * 1024;

const PathInput = z.string().min(1).max(512).describe('Path relative to the workspace, e.g. "notes/todo.md"');

export const workspaceReadFile: InProcessTool = defineTool({
  name: 'workspace_read_file',
  description: 'Read a UTF-8 text file from your workspace directory (at most 1 MB). Needs the user\'s approval.',
  risky: true,
  input: z.object({ path: PathInput }),
  async run({ path }, ctx) {
    const { absolute, display } = await resolveWorkspacePath(ctx.workspaceDir, path, { createParents: false });
    return readRegularFile(absolute, display, WORKSPACE_FILE_MAX_BYTES);
  },
});

export const workspaceWriteFile: InProcessTool = defineTool({
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
    await writeRegularFile(absolute, display, content);
    return `Wrote ${bytes} bytes to ${display}`;
  },
});
