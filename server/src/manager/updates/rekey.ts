/**
 * Re-seals a gateway database's secrets from one data key to another, on a
 * COPY of the data (a restore into a new instance: the backup's files staged
 * for the new instance, never the source's live files). Every vault value
 * (`v1.<iv>.<tag>.<ciphertext>`) sits in a known place with a known
 * purpose and context (see the places below, as their owners write them);
 * each is opened with the old key and sealed again with the new one in one
 * transaction. A sealed value in no known place, or one that does not open,
 * refuses the whole re-key (BAD_REQUEST, nothing written): a new instance
 * never starts holding a secret only the source's key opens.
 */
import { AppError, SECRET_SETTINGS } from '@autoclaw/shared';
import type { SettingKey } from '@autoclaw/shared';
import { createVault } from '../../security';
import type { Vault } from '../../security';

/** The shape of a vault token (security/vault.ts): version, 12-byte IV, 16-byte tag, ciphertext. */
const TOKEN = /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/;

interface Place {
  purpose: 'settings' | 'skills';
  aad: string;
}

/** Where a `settings` row's value was sealed (security/settings.ts, skills/skill-settings.ts, skills/oauth/google-oauth.ts). */
function settingPlace(key: string): Place | null {
  if (key.startsWith('setting:')) {
    const name = key.slice('setting:'.length);
    return SECRET_SETTINGS.includes(name as SettingKey) ? { purpose: 'settings', aad: `autoclaw-setting/v1:${name}` } : null;
  }
  const secret = /^skill:(.+):secret:(.+)$/.exec(key);
  if (secret) return { purpose: 'skills', aad: `autoclaw-skill-secret/v1:${secret[1]}:${secret[2]}` };
  const oauth = /^skill:(.+):oauth$/.exec(key);
  if (oauth) return { purpose: 'skills', aad: `autoclaw-skill-oauth/v1:${oauth[1]}` };
  return null;
}

/** Where a `channel_kv` row's value was sealed (channels/manager.ts: `secret:<key>` under the settings vault). */
function channelPlace(channel: string, key: string): Place | null {
  return key.startsWith('secret:') ? { purpose: 'settings', aad: `autoclaw-channel/v1:${channel}:${key.slice('secret:'.length)}` } : null;
}

export interface RekeyReport {
  /** How many values were sealed again. */
  resealed: number;
}

/** Re-seals every secret in the gateway database at `dbPath` (no gateway may have it open) from `from` to `to`. */
export async function rekeyGatewayDb(dbPath: string, from: Buffer, to: Buffer): Promise<RekeyReport> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { fileMustExist: true });
  const vaults = (key: Buffer): Record<Place['purpose'], Vault> => ({ settings: createVault(key), skills: createVault(key, 'skills') });
  const oldVaults = vaults(from);
  const newVaults = vaults(to);
  const reseal = (where: string, value: string, place: Place | null): string => {
    if (!place) throw new AppError('BAD_REQUEST', `the backup holds a sealed value at ${where} that the restore does not know how to re-seal; nothing was restored`);
    let plain: string;
    try {
      plain = oldVaults[place.purpose].decrypt(value, place.aad);
    } catch {
      throw new AppError('BAD_REQUEST', `the sealed value at ${where} does not open with the source instance's key; nothing was restored`);
    }
    return newVaults[place.purpose].encrypt(plain, place.aad);
  };
  try {
    const has = (table: string) => db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)?.n === 1;
    let resealed = 0;
    db.transaction(() => {
      if (has('settings')) {
        const put = db.prepare<[string, string]>('UPDATE settings SET value = ? WHERE key = ?');
        for (const row of db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings').all()) {
          if (!TOKEN.test(row.value)) continue;
          put.run(reseal(`setting ${row.key}`, row.value, settingPlace(row.key)), row.key);
          resealed += 1;
        }
      }
      if (has('channel_kv')) {
        const put = db.prepare<[string, string, string]>('UPDATE channel_kv SET value = ? WHERE channel = ? AND key = ?');
        for (const row of db.prepare<[], { channel: string; key: string; value: string }>('SELECT channel, key, value FROM channel_kv').all()) {
          if (!TOKEN.test(row.value)) continue;
          put.run(reseal(`channel ${row.channel} ${row.key}`, row.value, channelPlace(row.channel, row.key)), row.channel, row.key);
          resealed += 1;
        }
      }
    })();
    return { resealed };
  } finally {
    db.close();
  }
}
