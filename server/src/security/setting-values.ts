/** Validation of setting values, shared by the config parser, the settings service and the CLI. */
import { parseModelRef } from '@autoclaw/shared';
import type { SettingKey } from '@autoclaw/shared';

/** Settings given by the environment; they win over stored settings. */
export type EnvSettings = Partial<Record<SettingKey, string>>;

const URL_KEYS: readonly SettingKey[] = ['anthropic.baseUrl', 'openai.baseUrl', 'openaiCompatible.url'];

/** Checks a setting value; returns the normalized value or throws with a readable message. */
export function validateSettingValue(key: SettingKey, value: string): string {
  const v = value.trim();
  if (v.length === 0) throw new Error(`${key} is empty`);
  if (key === 'model') {
    parseModelRef(v);
    return v;
  }
  if (URL_KEYS.includes(key)) {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new Error(`${key} must be an http(s) URL (got "${v.slice(0, 80)}")`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${key} must be an http(s) URL`);
    return v;
  }
  if (/\p{Cc}/u.test(v)) throw new Error(`${key} contains control characters`);
  return v;
}

