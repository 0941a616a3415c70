import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETTINGS_FILE, loadSettingsStore } from './settings-store';

let dir: string;
const logs: string[] = [];
const log = (level: string, message: string): void => void logs.push(`${level} ${message}`);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-settings-'));
  logs.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings store', () => {
  it('starts from defaults and persists updates across loads', async () => {
    const store = await loadSettingsStore(dir, log);
    expect(store.get()).toEqual({ doNotDisturb: false, windowBounds: null });
    const bounds = { x: 10, y: 20, width: 900, height: 700, maximized: false };
    void store.update({ doNotDisturb: true });
    await store.update({ windowBounds: bounds });
    expect(store.get()).toEqual({ doNotDisturb: true, windowBounds: bounds });
    const again = await loadSettingsStore(dir, log);
    expect(again.get()).toEqual({ doNotDisturb: true, windowBounds: bounds });
    expect(logs).toEqual([]);
  });

  it('falls back to defaults on a damaged file, and refuses bad values', async () => {
    writeFileSync(join(dir, SETTINGS_FILE), '{"doNotDisturb": "yes"}');
    const store = await loadSettingsStore(dir, log);
    expect(store.get().doNotDisturb).toBe(false);
    expect(logs).toEqual(['warn settings: settings.json is malformed; using defaults']);
    writeFileSync(join(dir, SETTINGS_FILE), '{not json');
    expect((await loadSettingsStore(dir, log)).get().doNotDisturb).toBe(false);
    expect(() => store.update({ windowBounds: { x: 0, y: 0, width: -5, height: 1, maximized: false } })).toThrow();
    expect(readFileSync(join(dir, SETTINGS_FILE), 'utf8')).toBe('{not json');
  });
});
