/**
 * Provider settings: the environment wins over stored values; secret values
 * are stored encrypted with the vault (the data key lives in a 0600 file,
 * never in the database) and never leave this module except as the
 * provider settings the agent needs for a call.
 */
import { AppError, DEFAULT_MODEL, formatModelRef, parseModelRef, SECRET_SETTINGS, SETTING_KEYS } from '@autoclaw/shared';
import type { SettingKey, SettingsView } from '@autoclaw/shared';
import type { ProviderSettings } from '../agent/providers/index';
import type { Store } from '../store';
import type { Vault } from './vault';
import { validateSettingValue } from './setting-values';
import type { EnvSettings } from './setting-values';


export interface Settings {
  view(): SettingsView;
  /** Stores (or clears, with null) a setting; returns the new view. */
  set(key: SettingKey, value: string | null): SettingsView;
  providerSettings(): ProviderSettings;
}

export interface SettingsDeps {
  store: Store;
  vault: Vault;
  env: EnvSettings;
}

const STORE_PREFIX = 'setting:';

export function isSecretSetting(key: SettingKey): boolean {
  return SECRET_SETTINGS.includes(key);
}

function aadOf(key: SettingKey): string {
  return `autoclaw-setting/v1:${key}`;
}

export function createSettings(deps: SettingsDeps): Settings {
  const { store, vault, env } = deps;

  function stored(key: SettingKey): string | null {
    const raw = store.getSetting(STORE_PREFIX + key);
    if (raw === null || !isSecretSetting(key)) return raw;
    try {
      return vault.decrypt(raw, aadOf(key));
    } catch (err) {
      throw new AppError('NOT_CONFIGURED', `The stored ${key} cannot be decrypted with this data key; set it again`, { cause: err });
    }
  }

  function value(key: SettingKey): string | null {
    return env[key] ?? stored(key);
  }

  function view(): SettingsView {
    const values: SettingsView['values'] = {};
    for (const key of SETTING_KEYS) {
      const fromEnv = env[key];
      const raw = fromEnv === undefined ? store.getSetting(STORE_PREFIX + key) : null;
      const source = fromEnv !== undefined ? 'env' : raw !== null ? 'stored' : key === 'model' ? 'default' : 'unset';
      const shown = isSecretSetting(key) ? null : (fromEnv ?? raw ?? (key === 'model' ? formatModelRef(DEFAULT_MODEL) : null));
      values[key] = { source, value: shown };
    }
    const model = values.model;
    return { model: model?.value ?? formatModelRef(DEFAULT_MODEL), modelSource: model?.source ?? 'default', values };
  }

  return {
    view,
    set(key, input) {
      if (input === null || input.trim() === '') {
        store.setSetting(STORE_PREFIX + key, null);
        return view();
      }
      let normalized: string;
      try {
        normalized = validateSettingValue(key, input);
      } catch (err) {
        if (AppError.is(err)) throw err;
        throw new AppError('BAD_REQUEST', err instanceof Error ? err.message : `invalid ${key}`);
      }
      store.setSetting(STORE_PREFIX + key, isSecretSetting(key) ? vault.encrypt(normalized, aadOf(key)) : normalized);
      return view();
    },
    providerSettings() {
      const model = value('model');
      return {
        model: model === null ? DEFAULT_MODEL : parseModelRef(model),
        anthropic: { apiKey: value('anthropic.apiKey'), baseUrl: value('anthropic.baseUrl') },
        openai: { apiKey: value('openai.apiKey'), baseUrl: value('openai.baseUrl') },
        openaiCompatible: { url: value('openaiCompatible.url'), apiKey: value('openaiCompatible.apiKey') },
      };
    },
  };
}
