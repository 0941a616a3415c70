import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../../testing/anthropic-wire-server';
import { collectEvents, textOf } from '../../testing/collect-events';
import { startOpenAIWireServer } from '../../testing/openai-wire-server';
import type { WireServerHandle } from '../../testing/wire-server-base';
import { createProviderResolver, type ProviderSettings } from './resolver';

const servers: WireServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function settings(overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return {
    model: { provider: 'anthropic', model: 'claude-test' },
    anthropic: { apiKey: null, baseUrl: null },
    openai: { apiKey: null, baseUrl: null },
    openaiCompatible: { url: null, apiKey: null },
    ...overrides,
  };
}

function notConfigured(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (AppError.is(error, 'NOT_CONFIGURED')) return error;
    throw error;
  }
  throw new Error('expected NOT_CONFIGURED');
}

const ask = (text: string) => ({
  model: 'm',
  system: '',
  messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text }] }],
  tools: [],
  maxTokens: 32,
  signal: new AbortController().signal,
});

describe('createProviderResolver', () => {
  it('explains each missing piece of configuration', () => {
    const resolver = createProviderResolver();
    expect(notConfigured(() => resolver.resolve(settings())).message).toBe(
      'No Anthropic API key: set ANTHROPIC_API_KEY or add a key in Settings',
    );
    expect(notConfigured(() => resolver.resolve(settings({ model: { provider: 'openai', model: 'gpt' }, openai: { apiKey: '  ', baseUrl: null } }))).message).toBe(
      'No OpenAI API key: set OPENAI_API_KEY or add a key in Settings',
    );
    expect(notConfigured(() => resolver.resolve(settings({ anthropic: { apiKey: null, baseUrl: 'http://10.0.0.9:8080/x' } }))).message).toBe(
      'No Anthropic API key for 10.0.0.9:8080: add the key for this endpoint in Settings (a key from ANTHROPIC_API_KEY is sent only to its own endpoint)',
    );
    expect(notConfigured(() => resolver.resolve(settings({ model: { provider: 'openai-compatible', model: 'llama' } }))).message).toContain(
      'AUTOCLAW_OPENAI_COMPATIBLE_URL',
    );
  });

  it('reuses a provider while its settings are unchanged and makes a new one when they change', () => {
    const resolver = createProviderResolver();
    const a = settings({ anthropic: { apiKey: 'key-one', baseUrl: null } });
    const first = resolver.resolve(a).provider;
    expect(resolver.resolve({ ...a, model: { provider: 'anthropic', model: 'other-model' } }).provider).toBe(first);
    expect(resolver.resolve(settings({ anthropic: { apiKey: 'key-two', baseUrl: null } })).provider).not.toBe(first);
    expect(resolver.resolve(settings({ anthropic: { apiKey: 'key-one', baseUrl: 'http://127.0.0.1:1' } })).provider).not.toBe(first);
  });

  it('evicts the least recently used provider past the cache size', () => {
    const resolver = createProviderResolver({ cacheSize: 2 });
    const s = (key: string) => settings({ anthropic: { apiKey: key, baseUrl: null } });
    const one = resolver.resolve(s('k1')).provider;
    resolver.resolve(s('k2'));
    expect(resolver.resolve(s('k1')).provider).toBe(one); // k1 is now the most recent
    resolver.resolve(s('k3')); // evicts k2
    expect(resolver.resolve(s('k1')).provider).toBe(one);
  });

  it('resolves working providers for each kind, the compatible one without a key', async () => {
    const anthropic = await startAnthropicWireServer({ apiKey: 'ant-key' });
    const openai = await startOpenAIWireServer({ apiKey: 'oai-key' });
    const compatible = await startOpenAIWireServer();
    servers.push(anthropic, openai, compatible);
    const resolver = createProviderResolver();
    const base = settings({
      anthropic: { apiKey: 'ant-key', baseUrl: anthropic.url },
      openai: { apiKey: 'oai-key', baseUrl: openai.url },
      openaiCompatible: { url: compatible.url, apiKey: null },
    });
    for (const provider of ['anthropic', 'openai', 'openai-compatible'] as const) {
      const resolved = resolver.resolve({ ...base, model: { provider, model: 'm' } });
      expect(resolved.provider.id).toBe(provider);
      expect(resolved.model).toEqual({ provider, model: 'm' });
      const { events, error } = await collectEvents(resolved.provider.stream(ask(`via ${provider}`)));
      expect(error).toBeUndefined();
      expect(textOf(events)).toBe(`Echo: via ${provider}`);
    }
    expect([anthropic, openai, compatible].map((s) => s.requests.length)).toEqual([1, 1, 1]);
  });
});
