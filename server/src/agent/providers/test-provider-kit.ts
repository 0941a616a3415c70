/**
 * What the Anthropic and OpenAI provider tests share: a wire server per test
 * (closed after it), a provider pointed at it, a request with defaults, and
 * the recorded request bodies.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { collectEvents, textOf } from '../../testing/collect-events';
import type { WireServerHandle } from '../../testing/wire-server-base';
import type { WireServerOptions } from '../../testing/wire-types';
import type { Provider, ProviderMessage, ProviderRequest } from './types';

export interface ProviderTestKit {
  setup(opts?: WireServerOptions): Promise<{ server: WireServerHandle; provider: Provider }>;
  request(messages: ProviderMessage[] | string, extra?: Partial<ProviderRequest>): ProviderRequest;
  recordedBody(server: WireServerHandle, index: number): Record<string, unknown>;
  /** Closes a server a test started itself after the test. */
  track(server: WireServerHandle): WireServerHandle;
}

export function providerTestKit(
  start: (opts: WireServerOptions) => Promise<WireServerHandle>,
  make: (baseURL: string) => Provider,
  model: string,
): ProviderTestKit {
  const servers: WireServerHandle[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const track = (server: WireServerHandle): WireServerHandle => {
    servers.push(server);
    return server;
  };
  return {
    track,
    async setup(opts = {}) {
      const server = track(await start(opts));
      return { server, provider: make(server.url) };
    },
    request(messages, extra = {}) {
      return {
        model,
        system: 'You are helpful.',
        messages: typeof messages === 'string' ? [{ role: 'user', content: [{ type: 'text', text: messages }] }] : messages,
        tools: [],
        maxTokens: 256,
        signal: new AbortController().signal,
        ...extra,
      };
    },
    recordedBody(s, index) {
      return s.requests[index]?.body as Record<string, unknown>;
    },
  };
}

/** The provider calls its API through its own node:http transport, never the global fetch. */
export function itUsesItsOwnTransport(kit: ProviderTestKit): void {
  it('calls the API through its own node:http transport, not the global fetch', async () => {
    const { server, provider } = await kit.setup();
    server.enqueue({ kind: 'text', text: 'Hi' });
    const globalFetch = vi.spyOn(globalThis, 'fetch');
    try {
      const { events, error } = await collectEvents(provider.stream(kit.request('hi')));
      expect(error).toBeUndefined();
      expect(textOf(events)).toBe('Hi');
      expect(globalFetch).not.toHaveBeenCalled();
    } finally {
      globalFetch.mockRestore();
    }
  });
}
