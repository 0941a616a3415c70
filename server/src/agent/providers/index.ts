/** Model providers: adapters over the real SDKs, the retry policy, and the resolver. */
export type * from './types';
export { createAnthropicProvider, ANTHROPIC_DEFAULT_BASE_URL, type AnthropicProviderOptions } from './anthropic';
export { createOpenAIProvider, OPENAI_DEFAULT_BASE_URL, type OpenAIProviderOptions } from './openai';
export { streamWithRetry, abortableSleep, type RetryOptions, type RetryInfo } from './retry';
export { createProviderResolver, type ProviderResolver, type ProviderResolverOptions, type ProviderSettings } from './resolver';
export { parseRetryAfter } from './errors';
export { preloadProviders } from './preload';
