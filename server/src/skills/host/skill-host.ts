/**
 * The process a skill runs in (built to server/dist/skill-host.mjs and
 * started by the gateway under Node's permission model). It locks the
 * network and programs down, checks the skill's files against the vetted
 * hashes once more, imports the skill, then answers tool calls over IPC.
 * It ends when the gateway goes away.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FromHost, HostCall, HostInit, ToHost } from '../runtime/protocol';
import { hashFolder } from '../vetting/hash-folder';
import type { SkillModule } from './api';
import { lockdown } from './lockdown';
import { createHostRpc } from './rpc';
import { makeToolContext } from './tool-context';

const send = (message: FromHost) => {
  if (process.connected) process.send?.(message);
};
const rpc = createHostRpc(send);
/** The tool call running in this async context: network use is tied to it. */
const currentCall = new AsyncLocalStorage<number>();
const running = new Map<number, AbortController>();
let init: HostInit | null = null;
let skill: SkillModule | null = null;

function verifyFiles(expected: Record<string, string>, folder: string): void {
  const actual = hashFolder(folder);
  const names = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const name of names) {
    if (expected[name] !== actual[name]) throw new Error(`${name} does not match the vetted file`);
  }
}

async function start(message: HostInit): Promise<void> {
  lockdown({
    chromium: message.chromium,
    fetch: (req) => {
      const call = currentCall.getStore();
      if (call === undefined || !running.has(call)) return Promise.reject(new Error('network use outside a tool call is refused'));
      const { signal, ...rest } = req;
      return rpc.request(call, { kind: 'fetch', req: rest }, signal ?? undefined);
    },
  });
  verifyFiles(message.files, message.folder);
  const mod = (await import(pathToFileURL(join(message.folder, message.entry)).href)) as Partial<SkillModule>;
  if (!mod.tools || typeof mod.tools !== 'object') throw new Error(`${message.entry} does not export "tools"`);
  init = message;
  skill = mod as SkillModule;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'unknown error';
}

async function call(message: HostCall): Promise<void> {
  const handler = skill?.tools[message.tool];
  if (!init || !handler) {
    send({ t: 'result', id: message.id, ok: false, content: `${message.tool} is not a tool of this skill` });
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    const ctx = makeToolContext(init, message, controller.signal, rpc);
    const value = await currentCall.run(message.id, () => handler(message.input, ctx));
    const content = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    send({ t: 'result', id: message.id, ok: true, content });
  } catch (err) {
    send({ t: 'result', id: message.id, ok: false, content: `${message.tool} failed: ${describe(err)}` });
  } finally {
    running.delete(message.id);
  }
}

process.on('message', (raw: unknown) => {
  const message = raw as ToHost;
  if (rpc.handle(message)) return;
  if (message.t === 'init') {
    start(message).then(
      () => send({ t: 'ready' }),
      (err: unknown) => {
        send({ t: 'init-failed', message: describe(err) });
        process.disconnect?.();
      },
    );
  } else if (message.t === 'call') {
    void call(message);
  } else if (message.t === 'abort') {
    running.get(message.id)?.abort(new DOMException('The tool call was stopped', 'AbortError'));
  }
});
process.on('disconnect', () => process.exit(0));
