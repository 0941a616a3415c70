/**
 * Provider settings: the environment wins over stored values; secret values
 * are stored encrypted with the vault (the data key lives in a 0600 file,
 * never in the database) and never leave this module except as the
 * provider settings the agent needs for a call.
 *
 * A key belongs to the endpoint it was entered for: changing a provider's
 * endpoint clears the stored key (unless the same call gives one again),
 * and a key from the environment goes only to the environment's endpoint
 * or the provider's own, never to an endpoint stored here. Every change is
 * appended to the audit log (hosts, never secrets) in the same transaction.
 */
import { createHash } from 'node:crypto';
import { AppError, CHANNEL_ENDPOINT_SECRETS, DEFAULT_MODEL, ENDPOINT_KEY_OF, formatModelRef, parseModelRef, SECRET_SETTINGS, SETTING_KEYS } from '@autoclaw/shared';
import type { ChannelSettingKey, SettingKey, SettingsView } from '@autoclaw/shared';
import type { ModelRef } from '@autoclaw/shared';
import type { NewAuditEntry, Store } from '../store';
import type { Vault } from './vault';
import { validateSettingValue } from './setting-values';
import type { EnvSettings } from './setting-values';

/** A long value (a PEM certificate) is audited by its digest: the log keeps what changed, not the value. */
function auditValue(v: string | null): string | null {
  return v !== null && v.length > 200 ? `sha256:${createHash('sha256').update(v).digest('hex').slice(0, 16)} (${v.length} characters)` : v;
}

export interface SetOptions {
  /** Only with an endpoint key: the key for the new endpoint, stored in the same change (null or empty: clear it). */
  apiKey?: string | null;
  /** Who changes it, for the audit log (null: the local CLI on the data directory). */
  actor?: string | null;
}

/** What picks and configures the provider: the chosen model and each endpoint's key and URL. */
export interface ProviderSettings {
  model: ModelRef;
  anthropic: { apiKey: string | null; baseUrl: string | null };
  openai: { apiKey: string | null; baseUrl: string | null };
  openaiCompatible: { url: string | null; apiKey: string | null };
}

export interface Settings {
  view(): SettingsView;
  /** Stores (or clears, with null) a setting, audited; returns the new view. */
  set(key: SettingKey, value: string | null, opts?: SetOptions): SettingsView;
  providerSettings(): ProviderSettings;
  /** One setting's value (decrypted for secrets; the environment wins), for the gateway's parts (channels). */
  get(key: SettingKey): string | null;
  /** Called after `set` changed a key (channels restart when theirs change); returns the unsubscribe. */
  onChange(listener: (key: SettingKey) => void): () => void;
}

export interface SettingsDeps {
  store: Store;
  vault: Vault;
  env: EnvSettings;
}

const STORE_PREFIX = 'setting:';

/** The endpoint setting a key belongs to (built on first use: importing the security part does no work). */
let endpointOfKey: Map<SettingKey, SettingKey> | undefined;
function endpointOf(key: SettingKey): SettingKey | undefined {
  endpointOfKey ??= new Map(Object.entries(ENDPOINT_KEY_OF).map(([endpoint, k]) => [k, endpoint as SettingKey]));
  return endpointOfKey.get(key);
}

export function isSecretSetting(key: SettingKey): boolean {
  return SECRET_SETTINGS.includes(key);
}

function aadOf(key: SettingKey): string {
  return `autoclaw-setting/v1:${key}`;
}

/** How the audit log names an endpoint: its host, never its path or credentials. */
function hostOf(url: string | null, key: SettingKey): string {
  if (url === null) return key === 'openaiCompatible.url' ? 'none' : 'default';
  try {
    return new URL(url).host;
  } catch {
    return 'unreadable';
  }
}

function normalize(key: SettingKey, input: string): string {
  try {
    return validateSettingValue(key, input);
  } catch (err) {
    if (AppError.is(err)) throw err;
    throw new AppError('BAD_REQUEST', err instanceof Error ? err.message : `invalid ${key}`);
  }
}

const blank = (v: string | null | undefined): boolean => v === null || v === undefined || v.trim() === '';

export function createSettings(deps: SettingsDeps): Settings {
  const { store, vault, env } = deps;
  const listeners = new Set<(key: SettingKey) => void>();
  const changed = (key: SettingKey) => {
    for (const listener of [...listeners]) listener(key);
  };

  const raw = (key: SettingKey): string | null => store.getSetting(STORE_PREFIX + key);
  let providerCache: { version: string; settings: ProviderSettings } | null = null;

  function stored(key: SettingKey): string | null {
    const value = raw(key);
    if (value === null || !isSecretSetting(key)) return value;
    try {
      return vault.decrypt(value, aadOf(key));
    } catch (err) {
      throw new AppError('NOT_CONFIGURED', `The stored ${key} cannot be decrypted with this data key; set it again`, { cause: err });
    }
  }

  /** The environment's value of `key`, when it applies: an environment key only with its own (or the default) endpoint. */
  function fromEnv(key: SettingKey): string | undefined {
    const endpoint = endpointOf(key);
    if (endpoint !== undefined && env[endpoint] === undefined && raw(endpoint) !== null) return undefined;
    return env[key];
  }

  function value(key: SettingKey): string | null {
    return fromEnv(key) ?? stored(key);
  }

  function view(): SettingsView {
    const values: SettingsView['values'] = {};
    for (const key of SETTING_KEYS) {
      const envValue = fromEnv(key);
      const rawValue = envValue === undefined ? raw(key) : null;
      const source = envValue !== undefined ? 'env' : rawValue !== null ? 'stored' : key === 'model' ? 'default' : 'unset';
      const shown = isSecretSetting(key) ? null : (envValue ?? rawValue ?? (key === 'model' ? formatModelRef(DEFAULT_MODEL) : null));
      values[key] = { source, value: shown };
    }
    const model = values.model;
    return { model: model?.value ?? formatModelRef(DEFAULT_MODEL), modelSource: model?.source ?? 'default', values };
  }

  const encode = (key: SettingKey, v: string): string => (isSecretSetting(key) ? vault.encrypt(v, aadOf(key)) : v);

  return {
    view,
    set(key, input, opts = {}) {
      const actor = opts.actor ?? null;
      const next = blank(input) ? null : normalize(key, input as string);
      const changes: Array<{ key: string; value: string | null }> = [{ key: STORE_PREFIX + key, value: next === null ? null : encode(key, next) }];
      const audit: NewAuditEntry[] = [];
      const keyOf = ENDPOINT_KEY_OF[key];
      let clearedTokens: readonly SettingKey[] = [];
      if (opts.apiKey !== undefined && keyOf === undefined) {
        throw new AppError('BAD_REQUEST', `apiKey goes only with an endpoint setting (${Object.keys(ENDPOINT_KEY_OF).join(', ')})`);
      }
      if (keyOf !== undefined) {
        const before = raw(key);
        const hadKey = raw(keyOf) !== null;
        let detail: string;
        if (opts.apiKey !== undefined) {
          const apiKey = blank(opts.apiKey) ? null : normalize(keyOf, opts.apiKey as string);
          changes.push({ key: STORE_PREFIX + keyOf, value: apiKey === null ? null : encode(keyOf, apiKey) });
          detail = apiKey === null ? `${keyOf} cleared` : `${keyOf} entered with it`;
        } else if (before !== next && hadKey) {
          // The key was entered for the old endpoint: never hand it to a new one.
          changes.push({ key: STORE_PREFIX + keyOf, value: null });
          detail = `${keyOf} cleared (it was entered for the old endpoint)`;
        } else {
          detail = before === next ? 'unchanged' : 'no stored key';
        }
        audit.push({ deviceId: actor, action: 'settings.endpoint', target: key, oldValue: hostOf(before, key), newValue: hostOf(next, key), detail });
      } else {
        const secret = isSecretSetting(key);
        // A channel's endpoint: its tokens were entered for the old server.
        const before = raw(key);
        const tokens = before === next ? [] : (CHANNEL_ENDPOINT_SECRETS[key as ChannelSettingKey] ?? []).filter((token) => raw(token) !== null);
        for (const token of tokens) changes.push({ key: STORE_PREFIX + token, value: null });
        audit.push({
          deviceId: actor,
          action: next === null ? 'settings.clear' : 'settings.set',
          target: key,
          oldValue: secret ? null : auditValue(raw(key)),
          newValue: secret ? null : auditValue(next),
          detail: tokens.length === 0 ? null : `${tokens.join(', ')} cleared (entered for the old endpoint)`,
        });
        clearedTokens = tokens;
      }
      store.changeSettings(changes, audit);
      changed(key);
      if (keyOf !== undefined && changes.length > 1) changed(keyOf);
      for (const token of clearedTokens) changed(token);
      return view();
    },
    get: value,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    providerSettings() {
      // Asked before every provider call: read (and decrypt) again only when a setting may have changed.
      const version = store.settingsVersion();
      if (providerCache?.version === version) return providerCache.settings;
      const model = value('model');
      const settings: ProviderSettings = {
        model: model === null ? DEFAULT_MODEL : parseModelRef(model),
        anthropic: { apiKey: value('anthropic.apiKey'), baseUrl: value('anthropic.baseUrl') },
        openai: { apiKey: value('openai.apiKey'), baseUrl: value('openai.baseUrl') },
        openaiCompatible: { url: value('openaiCompatible.url'), apiKey: value('openaiCompatible.apiKey') },
      };
      providerCache = { version, settings };
      return settings;
    },
  };
}
