/**
 * Picks the provider for the current settings. Instances are cached by a hash
 * of what configures them (provider, URL, key), so a settings change makes a
 * new client and an unchanged one reuses its connection pool. The hash is
 * never logged and the key itself is not kept outside the provider.
 */
import { createHash } from 'node:crypto';
import { AppError, type ModelRef } from '@autoclaw/shared';
import { createAnthropicProvider } from './anthropic';
import { createOpenAIProvider } from './openai';
import type { ProviderSettings } from '../../security';
import type { Provider } from './types';

export type { ProviderSettings };

export interface ProviderResolver {
  /** Throws NOT_CONFIGURED when the chosen provider lacks its key (or, for compatible servers, its URL). */
  resolve(settings: ProviderSettings): { provider: Provider; model: ModelRef };
}

export interface ProviderResolverOptions {
  now?: () => number;
  /** Providers kept for reuse (default 8). */
  cacheSize?: number;
}

const present = (value: string | null): value is string => value !== null && value.trim().length > 0;

/** A missing key; at an endpoint set in Settings, say why the environment's key is not used there. */
function noKey(label: string, envName: string, baseUrl: string | null): AppError {
  if (!present(baseUrl)) return new AppError('NOT_CONFIGURED', `No ${label} API key: set ${envName} or add a key in Settings`);
  let host = 'this endpoint';
  try {
    host = new URL(baseUrl).host;
  } catch {
    // keep the generic name
  }
  return new AppError(
    'NOT_CONFIGURED',
    `No ${label} API key for ${host}: add the key for this endpoint in Settings (a key from ${envName} is sent only to its own endpoint)`,
  );
}

export function createProviderResolver(opts: ProviderResolverOptions = {}): ProviderResolver {
  const cache = new Map<string, Provider>();
  const cacheSize = Math.max(1, opts.cacheSize ?? 8);

  const cached = (parts: Array<string | null>, make: () => Provider): Provider => {
    const fingerprint = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
    let provider = cache.get(fingerprint);
    if (provider) {
      cache.delete(fingerprint);
    } else {
      provider = make();
      if (cache.size >= cacheSize) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
    }
    cache.set(fingerprint, provider);
    return provider;
  };
  const withNow = opts.now === undefined ? {} : { now: opts.now };

  return {
    resolve(settings) {
      const { model } = settings;
      switch (model.provider) {
        case 'anthropic': {
          const { apiKey, baseUrl } = settings.anthropic;
          if (!present(apiKey)) throw noKey('Anthropic', 'ANTHROPIC_API_KEY', baseUrl);
          const provider = cached(['anthropic', baseUrl, apiKey], () =>
            createAnthropicProvider({ apiKey, ...(present(baseUrl) ? { baseURL: baseUrl } : {}), ...withNow }),
          );
          return { provider, model };
        }
        case 'openai': {
          const { apiKey, baseUrl } = settings.openai;
          if (!present(apiKey)) throw noKey('OpenAI', 'OPENAI_API_KEY', baseUrl);
          const provider = cached(['openai', baseUrl, apiKey], () =>
            createOpenAIProvider({ id: 'openai', apiKey, ...(present(baseUrl) ? { baseURL: baseUrl } : {}), ...withNow }),
          );
          return { provider, model };
        }
        case 'openai-compatible': {
          const { url, apiKey } = settings.openaiCompatible;
          if (!present(url)) {
            throw new AppError(
              'NOT_CONFIGURED',
              'No OpenAI-compatible server URL: set AUTOCLAW_OPENAI_COMPATIBLE_URL or add the URL in Settings',
            );
          }
          const provider = cached(['openai-compatible', url, apiKey], () =>
            createOpenAIProvider({ id: 'openai-compatible', baseURL: url, ...(present(apiKey) ? { apiKey } : {}), ...withNow }),
          );
          return { provider, model };
        }
      }
    },
  };
}
