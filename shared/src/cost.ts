import { priceFor, type ProviderId } from './prices';

/** Token counts of one provider call. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

/**
 * Cost of one call in integer micro-dollars (1 USD = 1_000_000), or null when
 * the model is not in the price table (unpriced). USD per million tokens times
 * tokens is exactly micro-dollars, so only the final sum is rounded.
 */
export function costMicros(provider: ProviderId, model: string, usage: TokenUsage): number | null {
  const price = priceFor(provider, model);
  if (!price) return null;
  const exact =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    usage.cacheReadTokens * price.cacheRead +
    usage.cacheWriteTokens * price.cacheWrite;
  return Math.round(exact);
}

/** "$0.0123" for display; "unpriced" for null. */
export function formatMicros(micros: number | null): string {
  if (micros === null) return 'unpriced';
  const dollars = micros / 1_000_000;
  if (dollars === 0) return '$0.00';
  if (dollars < 0.01) return `$${dollars.toFixed(4)}`;
  return `$${dollars.toFixed(2)}`;
}

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}
