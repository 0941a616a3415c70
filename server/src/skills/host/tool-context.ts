/** The context a skill's tool handler gets (see api.ts), built per call. */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveWorkspacePath } from '../core/workspace-path';
import { readRegularFile, writeRegularFile } from '../safe-file';
import type { HostCall, HostInit } from '../runtime/protocol';
import type { FileEntry, ToolContext } from './api';
import { accessDenied } from './lockdown';
import type { HostRpc } from './rpc';

const FILE_MAX_BYTES = 1024 * 1024;
const LIST_MAX = 2_000;

export function makeToolContext(init: HostInit, call: HostCall, signal: AbortSignal, rpc: HostRpc): ToolContext {
  const scope = () => {
    if (!init.scopeDir) throw accessDenied('touching workspace files (no files permission)');
    return init.scopeDir;
  };
  const writable = () => {
    if (init.access !== 'read-write') throw accessDenied('changing workspace files (read-only scope)');
    return scope();
  };
  return {
    signal,
    secret: (name) => (Object.hasOwn(call.secrets, name) ? call.secrets[name] : undefined),
    setting: (name) => (Object.hasOwn(call.settings, name) ? (call.settings[name] ?? undefined) : undefined),
    oauthToken: () => call.oauthToken ?? undefined,
    saveSecret: (name, value) => rpc.request(call.id, { kind: 'save-secret', name, value }, signal).then(() => undefined),
    files: {
      async read(path) {
        const { absolute, display } = await resolveWorkspacePath(scope(), path, { createParents: false });
        return readRegularFile(absolute, display, FILE_MAX_BYTES);
      },
      async write(path, content) {
        const { absolute, display } = await resolveWorkspacePath(writable(), path, { createParents: true });
        await writeRegularFile(absolute, display, content);
      },
      async writeBytes(path, content) {
        const { absolute, display } = await resolveWorkspacePath(writable(), path, { createParents: true });
        await writeRegularFile(absolute, display, content);
      },
      async list(folder = '.') {
        const root = scope();
        const base = folder === '.' || folder === '' ? { absolute: root, display: '' } : await resolveWorkspacePath(root, folder, { createParents: false });
        const out: FileEntry[] = [];
        const walk = async (abs: string, rel: string): Promise<void> => {
          for (const entry of await readdir(abs, { withFileTypes: true })) {
            if (out.length >= LIST_MAX) return;
            const path = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) {
              out.push({ path, size: 0, directory: true });
              await walk(join(abs, entry.name), path);
            } else if (entry.isFile()) {
              const { size } = await lstat(join(abs, entry.name));
              out.push({ path, size, directory: false });
            }
          }
        };
        await walk(base.absolute, base.display);
        return out;
      },
      async remove(path) {
        const { absolute } = await resolveWorkspacePath(writable(), path, { createParents: false });
        await rm(absolute, { force: true });
      },
    },
    index: {
      put: (path, text) => rpc.request(call.id, { kind: 'index-put', path, text }, signal).then(() => undefined),
      remove: (path) => rpc.request(call.id, { kind: 'index-delete', path }, signal).then(() => undefined),
      search: (query, limit = 10) => rpc.request(call.id, { kind: 'index-search', query, limit }, signal),
    },
    exec: (command, opts = {}) => rpc.request(call.id, { kind: 'exec', command, timeoutMs: opts.timeoutMs ?? 60_000 }, signal),
    browser: init.chromium ? { executablePath: init.chromium.path, args: [] } : null,
  };
}
