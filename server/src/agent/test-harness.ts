/**
 * Test support for the agent's tests (imported only by *.test.ts files): a
 * real store in a temp dir, a chat service over a real provider, an event
 * recorder and a polling wait. The wire server is passed in by the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, ModelRef, Session } from '@autoclaw/shared';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { createChatService, type AgentChatService, type ChatServiceDeps } from './chat-service';
import type { ToolCatalog } from '../skills';
import { createAnthropicProvider, createOpenAIProvider, type Provider } from './providers';
import type { TrackedEvent } from './types';

export const TEST_KEY = 'sk-test-key-123';

export type ProviderKind = 'anthropic' | 'openai';

export function makeProvider(kind: ProviderKind, url: string, apiKey = TEST_KEY): Provider {
  return kind === 'anthropic'
    ? createAnthropicProvider({ apiKey, baseURL: url })
    : createOpenAIProvider({ id: 'openai', apiKey, baseURL: url });
}

export function defaultModel(kind: ProviderKind): ModelRef {
  return kind === 'anthropic' ? { provider: 'anthropic', model: 'claude-haiku-4-5' } : { provider: 'openai', model: 'gpt-4o-mini' };
}

export interface Recorder {
  readonly events: TrackedEvent[];
  stop(): Promise<void>;
}

export interface Harness {
  dir: string;
  workspaceDir: string;
  store: Store;
  service: AgentChatService;
  session: Session;
  record(sessionId?: string, lastEventId?: string | null): Recorder;
  /** Sends a message with a fresh client id. */
  send(text: string, sessionId?: string): Message;
  close(): Promise<void>;
}

let clientCounter = 0;

export async function openHarness(
  opts: Partial<ChatServiceDeps> &
    Pick<ChatServiceDeps, 'resolveProvider'> & {
      /** Builds the tool catalog over the harness's store (e.g. the gateway's skill service). */
      toolsFor?: (store: Store, dir: string, workspaceDir: string) => ToolCatalog;
    },
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-agent-'));
  const workspaceDir = join(dir, 'workspace');
  const store = openStore({ path: join(dir, 'gateway.db') });
  const { toolsFor, ...deps } = opts;
  const service = createChatService({
    store,
    workspaceDir,
    retry: { sleep: async () => {}, maxAttempts: 1 },
    ...deps,
    ...(toolsFor ? { tools: toolsFor(store, dir, workspaceDir) } : {}),
  });
  await service.start();
  const session = service.createSession({ name: 'main' });
  const recorders = new Set<Recorder>();

  const record = (sessionId = session.id, lastEventId: string | null = null): Recorder => {
    const controller = new AbortController();
    const events: TrackedEvent[] = [];
    const done = (async () => {
      for await (const event of service.events(sessionId, lastEventId, controller.signal)) events.push(event);
    })();
    const recorder: Recorder = {
      events,
      async stop() {
        controller.abort();
        await done;
        recorders.delete(recorder);
      },
    };
    recorders.add(recorder);
    return recorder;
  };

  return {
    dir,
    workspaceDir,
    store,
    service,
    session,
    record,
    send(text, sessionId = session.id) {
      clientCounter += 1;
      return service.send({ sessionId, clientId: `client-${process.pid}-${clientCounter}`, text }).message;
    },
    async close() {
      for (const recorder of [...recorders]) await recorder.stop();
      await service.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(check: () => T | null | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The deltas of one message, checked to be gap-free, joined. */
export function deltaText(events: readonly TrackedEvent[], messageId: string, from = 0): string {
  let text = '';
  for (const { event } of events) {
    if (event.type !== 'delta' || event.messageId !== messageId) continue;
    if (event.offset !== from + text.length) throw new Error(`delta at ${event.offset}, expected ${from + text.length}`);
    text += event.text;
  }
  return text;
}
