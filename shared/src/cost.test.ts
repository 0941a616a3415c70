import { describe, expect, it } from 'vitest';
import { addUsage, costMicros, formatMicros, ZERO_USAGE } from './cost';
import { PRICE_TABLE, priceFor } from './prices';

describe('costMicros', () => {
  it('prices every token kind in integer micro-dollars', () => {
    // claude-sonnet-4-5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per MTok
    const micros = costMicros('anthropic', 'claude-sonnet-4-5', {
      inputTokens: 1000,
      outputTokens: 500,
      cacheReadTokens: 2000,
      cacheWriteTokens: 100,
    });
    expect(micros).toBe(1000 * 3 + 500 * 15 + 2000 * 0.3 + 100 * 3.75);
    expect(Number.isInteger(micros)).toBe(true);
  });

  it('rounds fractional micro-dollars once, at the end', () => {
    // gpt-4o-mini: $0.15 per MTok input → 3 tokens = 0.45 µ$ → 0
    expect(costMicros('openai', 'gpt-4o-mini', { ...ZERO_USAGE, inputTokens: 3 })).toBe(0);
    expect(costMicros('openai', 'gpt-4o-mini', { ...ZERO_USAGE, inputTokens: 10 })).toBe(2);
  });

  it('returns null (unpriced), never zero, for a model missing from the table', () => {
    expect(costMicros('openai-compatible', 'llama3.1:8b', { ...ZERO_USAGE, inputTokens: 10 })).toBeNull();
    expect(costMicros('anthropic', 'claude-imaginary-9', { ...ZERO_USAGE, outputTokens: 10 })).toBeNull();
  });

  it('accepts dated snapshots of listed models', () => {
    expect(priceFor('anthropic', 'claude-sonnet-4-5-20250929')).toEqual(PRICE_TABLE['anthropic:claude-sonnet-4-5']);
    expect(priceFor('openai', 'gpt-4o-2024-08-06')).toEqual(PRICE_TABLE['openai:gpt-4o']);
    expect(priceFor('openai', 'gpt-4o-audio')).toBeNull();
  });

  it('records when each price was checked', () => {
    for (const [key, price] of Object.entries(PRICE_TABLE)) {
      expect(price.checked, key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(price.input, key).toBeGreaterThan(0);
    }
  });
});

describe('formatMicros and addUsage', () => {
  it('formats dollars and shows unpriced as such', () => {
    expect(formatMicros(null)).toBe('unpriced');
    expect(formatMicros(0)).toBe('$0.00');
    expect(formatMicros(1234)).toBe('$0.0012');
    expect(formatMicros(1_250_000)).toBe('$1.25');
  });

  it('adds usage field by field', () => {
    expect(addUsage({ inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4 }, { inputTokens: 10, outputTokens: 20, cacheReadTokens: 30, cacheWriteTokens: 40 })).toEqual({
      inputTokens: 11,
      outputTokens: 22,
      cacheReadTokens: 33,
      cacheWriteTokens: 44,
    });
  });
});
