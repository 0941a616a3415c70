/**
 * Model price table. Prices are US dollars per million tokens, as published by
 * each provider on the date in `checked`. A model missing from the table is
 * *unpriced*: its tokens are still recorded, its cost is unknown (null) and
 * shown as such — never a silent zero.
 */
export interface ModelPrice {
  /** USD per million input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
  /** USD per million tokens read from the prompt cache. */
  cacheRead: number;
  /** USD per million tokens written to the prompt cache. */
  cacheWrite: number;
  /** ISO date on which the price was checked against the provider's page. */
  checked: string;
}

export type ProviderId = 'anthropic' | 'openai' | 'openai-compatible';

const ANTHROPIC_CHECKED = '2026-11-01';
const OPENAI_CHECKED = '2026-11-01';

/** Keys are `provider:model`. Dated snapshots resolve through `priceFor`. */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  'anthropic:claude-opus-4-6': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-sonnet-4-6': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-opus-4-5': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-opus-4-1': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-opus-4-0': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-sonnet-4-0': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25, checked: ANTHROPIC_CHECKED },
  'anthropic:claude-3-5-haiku-latest': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1, checked: ANTHROPIC_CHECKED },
  'openai:gpt-5': { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0, checked: OPENAI_CHECKED },
  'openai:gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025, cacheWrite: 0, checked: OPENAI_CHECKED },
  'openai:gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005, cacheWrite: 0, checked: OPENAI_CHECKED },
  'openai:gpt-4.1': { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0, checked: OPENAI_CHECKED },
  'openai:gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1, cacheWrite: 0, checked: OPENAI_CHECKED },
  'openai:gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite: 0, checked: OPENAI_CHECKED },
  'openai:gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075, cacheWrite: 0, checked: OPENAI_CHECKED },
};

/**
 * Looks a model up, accepting dated snapshots of a listed model
 * (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`, `gpt-4o-2024-08-06` → `gpt-4o`).
 */
export function priceFor(provider: ProviderId, model: string): ModelPrice | null {
  const exact = PRICE_TABLE[`${provider}:${model}`];
  if (exact) return exact;
  const undated = model.replace(/-(\d{8}|\d{4}-\d{2}-\d{2})$/, '');
  return PRICE_TABLE[`${provider}:${undated}`] ?? null;
}
