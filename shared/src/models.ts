import { AppError } from './errors';
import type { ProviderId } from './prices';

export interface ModelRef {
  provider: ProviderId;
  model: string;
}

export const DEFAULT_MODEL: ModelRef = { provider: 'anthropic', model: 'claude-sonnet-4-6' };

const PROVIDERS: readonly ProviderId[] = ['anthropic', 'openai', 'openai-compatible'];

/** Parses `anthropic:NAME`, `openai:NAME` or `openai-compatible:NAME`. */
export function parseModelRef(spec: string): ModelRef {
  const at = spec.indexOf(':');
  const provider = spec.slice(0, at);
  const model = spec.slice(at + 1).trim();
  if (at <= 0 || !(PROVIDERS as readonly string[]).includes(provider) || model.length === 0 || model.length > 200) {
    throw new AppError(
      'BAD_REQUEST',
      `Model must look like "anthropic:NAME", "openai:NAME" or "openai-compatible:NAME" (got "${spec.slice(0, 80)}")`,
    );
  }
  return { provider: provider as ProviderId, model };
}

export function formatModelRef(ref: ModelRef): string {
  return `${ref.provider}:${ref.model}`;
}
