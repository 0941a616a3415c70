import { describe, expect, it } from 'vitest';
import { worstCase } from './budget-gate';
import type { ProviderMessage, ProviderRequest } from './providers';

const model = { provider: 'anthropic', model: 'claude-haiku-4-5' } as const;

function request(messages: ProviderMessage[]): ProviderRequest {
  return { model: model.model, system: 'sys', messages, tools: [], maxTokens: 100, signal: new AbortController().signal };
}

describe('worstCase', () => {
  it('bounds the prompt by its UTF-8 bytes, counting a message seen before from its memo', () => {
    const past: ProviderMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'héllo' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'now', input: { tz: 'UTC' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: '09:00', isError: false }] },
    ];
    const first = worstCase(model, request(past));
    // 1024 overhead + system 3 + tools "[]" 2; per message 8; héllo 6 bytes; tool_use 3 + 12 + 8; tool_result 5 + 8.
    expect(first.promptTokens).toBe(1_024 + 3 + 2 + 3 * 8 + 6 + (3 + 12 + 8) + (5 + 8));
    expect(first.tokens).toBe(first.promptTokens + 100);
    // The same message objects again (the settled past of the next turn), and copies of them: the same size.
    expect(worstCase(model, request(past))).toEqual(first);
    expect(worstCase(model, request(structuredClone(past)))).toEqual(first);
    // A new message counts with its own content.
    const next = worstCase(model, request([...past, { role: 'assistant', content: [{ type: 'text', text: 'It is nine' }] }]));
    expect(next.promptTokens).toBe(first.promptTokens + 8 + 10);
  });
});
