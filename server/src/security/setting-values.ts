/** Validation of setting values, shared by the config parser, the settings service and the CLI. */
import { DmPolicy, parseModelRef } from '@autoclaw/shared';
import type { SettingKey } from '@autoclaw/shared';

/** Settings given by the environment; they win over stored settings. */
export type EnvSettings = Partial<Record<SettingKey, string>>;

const URL_KEYS: readonly SettingKey[] = [
  'anthropic.baseUrl',
  'openai.baseUrl',
  'openaiCompatible.url',
  'telegram.apiRoot',
  'telegram.webhookUrl',
  'discord.apiRoot',
  'slack.apiRoot',
  'matrix.homeserverUrl',
  'mattermost.url',
  'imessage.url',
  'imessage.webhookUrl',
  'teams.openIdMetadataUrl',
  'teams.tokenUrl',
  'signal.url',
  'googlechat.certsUrl',
  'googlechat.tokenUrl',
  'googlechat.apiRoot',
];

/** `<channel>.allowFrom`: comma-separated platform user ids (no spaces or control characters inside one). */
function allowList(key: SettingKey, v: string): string {
  const ids = v.split(',').map((id) => id.trim()).filter((id) => id.length > 0);
  if (ids.length === 0) throw new Error(`${key} lists no user ids`);
  for (const id of ids) {
    if (id.length > 200 || /[\s\p{Cc}]/u.test(id)) throw new Error(`${key}: "${id.slice(0, 40)}" is not a platform user id`);
  }
  return [...new Set(ids)].join(',');
}

/** A Google service account's JSON key (as downloaded): kept compact, checked for what signing needs. */
function serviceAccountKey(key: SettingKey, v: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new Error(`${key} must be the service account's JSON key file`);
  }
  const o = parsed as Record<string, unknown> | null;
  if (!o || typeof o['client_email'] !== 'string' || typeof o['private_key'] !== 'string' || !o['private_key'].includes('PRIVATE KEY')) {
    throw new Error(`${key} must be a JSON key with client_email and private_key`);
  }
  return JSON.stringify(parsed);
}

/**
 * PEM certificates (the CA a self-hosted or test server's HTTPS hosts are signed by), normalized: a
 * field that lost the line breaks (a one-line paste) still gives the certificates, rewrapped at 64.
 */
function pemCertificates(key: SettingKey, v: string): string {
  const blocks = [...v.matchAll(/-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g)].map((m) => (m[1] ?? '').replace(/\s+/g, ''));
  const rest = v.replace(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g, '').trim();
  if (blocks.length === 0 || rest.length > 0 || blocks.some((b) => !/^[A-Za-z0-9+/]+={0,2}$/.test(b))) {
    throw new Error(`${key} must be one or more PEM certificates (-----BEGIN CERTIFICATE----- …)`);
  }
  return blocks.map((b) => `-----BEGIN CERTIFICATE-----\n${b.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`).join('');
}

function checkUrl(key: SettingKey, v: string, protocols: readonly string[], label: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error(`${key} must be ${label} URL (got "${v.slice(0, 80)}")`);
  }
  if (!protocols.includes(url.protocol)) throw new Error(`${key} must be ${label} URL`);
  return v;
}

/** Checks a setting value; returns the normalized value or throws with a readable message. */
export function validateSettingValue(key: SettingKey, value: string): string {
  const v = value.trim();
  if (v.length === 0) throw new Error(`${key} is empty`);
  if (key === 'model') {
    parseModelRef(v);
    return v;
  }
  if (URL_KEYS.includes(key)) return checkUrl(key, v, ['http:', 'https:'], 'an http(s)');
  if (key === 'signal.account' && !/^\+[1-9]\d{6,14}$/.test(v)) throw new Error(`${key} must be a phone number in international form (+15551234567)`);
  if (key === 'whatsapp.url') return checkUrl(key, v, ['ws:', 'wss:'], 'a ws(s)');
  if (key === 'whatsapp.serverKey' && Buffer.from(v, 'base64').length !== 32) throw new Error(`${key} must be a 32-byte Curve25519 public key in base64`);
  if (key === 'whatsapp.mediaCa') return pemCertificates(key, v);
  if (key.endsWith('.dmPolicy')) {
    if (!DmPolicy.safeParse(v).success) throw new Error(`${key} must be one of: ${DmPolicy.options.join(', ')}`);
    return v;
  }
  if (key.endsWith('.allowFrom')) return allowList(key, v);
  if (key === 'googlechat.serviceAccount') return serviceAccountKey(key, v);
  if (/\p{Cc}/u.test(v)) throw new Error(`${key} contains control characters`);
  return v;
}

