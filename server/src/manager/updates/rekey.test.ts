/**
 * Re-sealing a gateway database's secrets for a new instance's key, on a
 * real store: the provider key (as the settings part seals it), a skill
 * secret and a channel secret open with the new key and no longer with the
 * old; a sealed value in an unknown place, or one the old key does not open,
 * refuses the whole re-key and leaves the file as it was.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../store';
import { createSettings, createVault } from '../../security';
import { rekeyGatewayDb } from './rekey';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function gatewayDb(fill: (store: ReturnType<typeof openStore>, oldKey: Buffer) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-rekey-'));
  dirs.push(dir);
  const path = join(dir, 'gateway.db');
  const oldKey = randomBytes(32);
  const store = openStore({ path });
  fill(store, oldKey);
  store.close();
  return { path, oldKey, newKey: randomBytes(32) };
}

describe('rekeyGatewayDb', () => {
  it('re-seals the provider key, skill and channel secrets under the new key', async () => {
    const { path, oldKey, newKey } = gatewayDb((store, key) => {
      createSettings({ store, vault: createVault(key), env: {} }).set('anthropic.apiKey', 'sk-ant-provider-0001');
      store.setSetting('skill:github:secret:token', createVault(key, 'skills').encrypt('ghp-secret-0002', 'autoclaw-skill-secret/v1:github:token'));
      store.setChannelValue('telegram', 'secret:session', createVault(key).encrypt('tg-session-0003', 'autoclaw-channel/v1:telegram:session'));
      store.setSetting('model', 'anthropic:claude-test-model');
    });
    expect(await rekeyGatewayDb(path, oldKey, newKey)).toEqual({ resealed: 3 });
    const store = openStore({ path });
    try {
      expect(createSettings({ store, vault: createVault(newKey), env: {} }).providerSettings().anthropic.apiKey).toBe('sk-ant-provider-0001');
      expect(() => createSettings({ store, vault: createVault(oldKey), env: {} }).providerSettings()).toThrow();
      expect(createVault(newKey, 'skills').decrypt(store.getSetting('skill:github:secret:token') as string, 'autoclaw-skill-secret/v1:github:token')).toBe('ghp-secret-0002');
      const channel = store.getChannelValue('telegram', 'secret:session') as string;
      expect(createVault(newKey).decrypt(channel, 'autoclaw-channel/v1:telegram:session')).toBe('tg-session-0003');
      expect(() => createVault(oldKey).decrypt(channel, 'autoclaw-channel/v1:telegram:session')).toThrow();
      expect(store.getSetting('model')).toBe('anthropic:claude-test-model');
    } finally {
      store.close();
    }
  });

  it('refuses a sealed value in an unknown place, or one the old key does not open, and writes nothing', async () => {
    const unknown = gatewayDb((store, key) => {
      createSettings({ store, vault: createVault(key), env: {} }).set('anthropic.apiKey', 'sk-ant-provider-0001');
      store.setSetting('somewhere:else', createVault(key).encrypt('hidden', 'somewhere'));
    });
    const before = readFileSync(unknown.path);
    await expect(rekeyGatewayDb(unknown.path, unknown.oldKey, unknown.newKey)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('setting somewhere:else') });
    expect(readFileSync(unknown.path).equals(before)).toBe(true);

    const foreign = gatewayDb((store) => createSettings({ store, vault: createVault(randomBytes(32)), env: {} }).set('anthropic.apiKey', 'sk-ant-other-0001'));
    await expect(rekeyGatewayDb(foreign.path, foreign.oldKey, foreign.newKey)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining("does not open with the source instance's key") });
  });
});
