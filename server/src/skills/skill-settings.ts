/**
 * Where a skill's state lives in the gateway's settings (enabled, settings,
 * sealed secrets), and the check of a setting's value against its kind.
 */
import { AppError } from '@autoclaw/shared';
import { splitHostPort } from './egress/host-policy';
import type { SkillSettingDefinition } from './format/skill-md';

export const skillKey = {
  enabled: (name: string) => `skill:${name}:enabled`,
  setting: (name: string, setting: string) => `skill:${name}:setting:${setting}`,
  secret: (name: string, secret: string) => `skill:${name}:secret:${secret}`,
};
export const secretAad = (name: string, secret: string) => `autoclaw-skill-secret/v1:${name}:${secret}`;

export function checkSettingValue(def: SkillSettingDefinition, value: string): string {
  const trimmed = value.trim();
  if (def.kind === 'url') {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new AppError('BAD_REQUEST', `${def.label} must be a URL like https://example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('BAD_REQUEST', `${def.label} must be an http or https URL`);
    if (url.username || url.password) throw new AppError('BAD_REQUEST', `${def.label} must not carry credentials`);
  } else if (def.kind === 'host' && !splitHostPort(trimmed)) {
    throw new AppError('BAD_REQUEST', `${def.label} must be a host name or address, optionally with :port`);
  }
  return trimmed;
}
