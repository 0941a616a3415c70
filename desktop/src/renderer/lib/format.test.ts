import { describe, expect, it } from 'vitest';
import { formatUsage, prettyJson } from './format';

const usage = { provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 1200, outputTokens: 40, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('format', () => {
  it('shows cost, or "unpriced" when the model is not in the price table', () => {
    expect(formatUsage({ ...usage, costMicros: 4_200 })).toBe('claude-sonnet-4-5 · 1,200 in · 40 out · $0.0042');
    expect(formatUsage({ ...usage, model: 'llama3', costMicros: null })).toBe('llama3 · 1,200 in · 40 out · unpriced');
  });

  it('pretty-prints JSON tool input and leaves other text alone', () => {
    expect(prettyJson('{"path":"notes.txt"}')).toBe('{\n  "path": "notes.txt"\n}');
    expect(prettyJson('not json')).toBe('not json');
  });
});
