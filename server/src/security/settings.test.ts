import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, DEFAULT_MODEL, formatModelRef } from '@autoclaw/shared';
import { openStore } from '../store';
import type { Store } from '../store';
import { loadOrCreateKeyFile } from './key-file';
import { createSettings } from './settings';
import { createVault } from './vault';

describe('settings', () => {
  let dir: string;
  let store: Store;
  const vault = () => createVault(loadOrCreateKeyFile(join(dir, 'data.key')));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-settings-'));
    store = openStore({ path: join(dir, 'gateway.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('defaults the model and reports unset keys', () => {
    const settings = createSettings({ store, vault: vault(), env: {} });
    const view = settings.view();
    expect(view.model).toBe(formatModelRef(DEFAULT_MODEL));
    expect(view.modelSource).toBe('default');
    expect(view.values['anthropic.apiKey']).toEqual({ source: 'unset', value: null });
    expect(settings.providerSettings()).toEqual({
      model: DEFAULT_MODEL,
      anthropic: { apiKey: null, baseUrl: null },
      openai: { apiKey: null, baseUrl: null },
      openaiCompatible: { url: null, apiKey: null },
    });
  });

  it('reads the provider settings again only when a setting changed: here, or in another process', () => {
    const settings = createSettings({ store, vault: vault(), env: {} });
    const first = settings.providerSettings();
    // Nothing changed: the same answer, without reading the settings table again.
    const reads = vi.spyOn(store, 'getSetting');
    expect(settings.providerSettings()).toBe(first);
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();

    settings.set('anthropic.apiKey', 'sk-ant-here-0123456789');
    expect(settings.providerSettings().anthropic.apiKey).toBe('sk-ant-here-0123456789');

    // Another process (the CLI beside a running gateway) changes the model in the same file.
    const other = openStore({ path: join(dir, 'gateway.db') });
    try {
      createSettings({ store: other, vault: vault(), env: {} }).set('model', 'openai:gpt-4o');
    } finally {
      other.close();
    }
    expect(formatModelRef(settings.providerSettings().model)).toBe('openai:gpt-4o');
  });

  it('stores secrets encrypted (never in the clear), and never shows them', () => {
    const secret = 'sk-ant-test-0123456789abcdef';
    const settings = createSettings({ store, vault: vault(), env: {} });
    const view = settings.set('anthropic.apiKey', secret);
    expect(view.values['anthropic.apiKey']).toEqual({ source: 'stored', value: null });
    expect(JSON.stringify(view)).not.toContain(secret);
    expect(store.dump()).not.toContain(secret);
    expect(store.dump()).not.toContain(Buffer.from(secret).toString('base64'));
    expect(settings.providerSettings().anthropic.apiKey).toBe(secret);
    // A fresh settings object over the same store and key reads it back.
    expect(createSettings({ store, vault: vault(), env: {} }).providerSettings().anthropic.apiKey).toBe(secret);
  });

  it('lets the environment win over stored values', () => {
    createSettings({ store, vault: vault(), env: {} }).set('anthropic.apiKey', 'stored-key');
    createSettings({ store, vault: vault(), env: {} }).set('model', 'openai:gpt-4o');
    const settings = createSettings({ store, vault: vault(), env: { 'anthropic.apiKey': 'env-key', model: 'anthropic:claude-x' } });
    expect(settings.providerSettings().anthropic.apiKey).toBe('env-key');
    expect(settings.providerSettings().model).toEqual({ provider: 'anthropic', model: 'claude-x' });
    const view = settings.view();
    expect(view.values['anthropic.apiKey']).toEqual({ source: 'env', value: null });
    expect(view.model).toBe('anthropic:claude-x');
    expect(view.modelSource).toBe('env');
  });

  it('validates values and clears with null or empty', () => {
    const settings = createSettings({ store, vault: vault(), env: {} });
    expect(() => settings.set('model', 'gpt-4o')).toThrow(AppError);
    expect(() => settings.set('openai.baseUrl', 'ftp://x')).toThrow(AppError);
    expect(() => settings.set('openai.baseUrl', 'not a url')).toThrow(AppError);
    settings.set('openai.baseUrl', 'http://127.0.0.1:1234/v1');
    expect(settings.view().values['openai.baseUrl']).toEqual({ source: 'stored', value: 'http://127.0.0.1:1234/v1' });
    settings.set('openai.baseUrl', null);
    expect(settings.view().values['openai.baseUrl']).toEqual({ source: 'unset', value: null });
    settings.set('model', 'openai-compatible:llama3');
    settings.set('model', '  ');
    expect(settings.view().modelSource).toBe('default');
  });

  it('clears the key of every provider whose endpoint changes, keeps it for the same endpoint, and audits without secrets', () => {
    const settings = createSettings({ store, vault: vault(), env: {} });
    const cases = [
      ['anthropic.baseUrl', 'anthropic.apiKey'],
      ['openai.baseUrl', 'openai.apiKey'],
      ['openaiCompatible.url', 'openaiCompatible.apiKey'],
    ] as const;
    for (const [endpoint, key] of cases) {
      settings.set(endpoint, 'http://127.0.0.1:1111/v1');
      settings.set(key, `secret-${key}`);
      settings.set(endpoint, 'http://127.0.0.1:1111/v1');
      expect(settings.view().values[key]?.source).toBe('stored');
      settings.set(endpoint, 'http://127.0.0.1:2222/v1');
      expect(settings.view().values[key]?.source).toBe('unset');
      settings.set(endpoint, null, { apiKey: `again-${key}` });
      expect(settings.view().values[key]?.source).toBe('stored');
      settings.set(endpoint, 'http://127.0.0.1:3333/v1', { apiKey: null });
      expect(settings.view().values[key]?.source).toBe('unset');
    }
    expect(settings.providerSettings().openaiCompatible).toEqual({ url: 'http://127.0.0.1:3333/v1', apiKey: null });
    const audit = store.listAudit({ limit: 100 });
    expect(audit.filter((e) => e.action === 'settings.endpoint').map((e) => [e.target, e.oldValue, e.newValue, e.detail])).toContainEqual([
      'openai.baseUrl',
      '127.0.0.1:1111',
      '127.0.0.1:2222',
      'openai.apiKey cleared (it was entered for the old endpoint)',
    ]);
    expect(JSON.stringify(audit)).not.toContain('secret-');
    expect(JSON.stringify(audit)).not.toContain('again-');

    const before = store.dump();
    expect(() => settings.set('model', 'openai:gpt-4o', { apiKey: 'k' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => settings.set('openai.baseUrl', 'ftp://x', { apiKey: 'k' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => settings.set('openai.baseUrl', 'http://127.0.0.1:4444', { apiKey: 'bad\u0001key' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(store.dump()).toBe(before);
  });

  it('sends an environment key only to the environment endpoint or the provider default', () => {
    const env = { 'openai.apiKey': 'env-openai' };
    expect(createSettings({ store, vault: vault(), env }).providerSettings().openai).toEqual({ apiKey: 'env-openai', baseUrl: null });
    createSettings({ store, vault: vault(), env }).set('openai.baseUrl', 'http://127.0.0.1:5555/v1');
    const settings = createSettings({ store, vault: vault(), env });
    expect(settings.providerSettings().openai).toEqual({ apiKey: null, baseUrl: 'http://127.0.0.1:5555/v1' });
    expect(settings.view().values['openai.apiKey']).toEqual({ source: 'unset', value: null });
    settings.set('openai.apiKey', 'stored-for-5555');
    expect(settings.providerSettings().openai).toEqual({ apiKey: 'stored-for-5555', baseUrl: 'http://127.0.0.1:5555/v1' });
    const withEnvUrl = createSettings({ store, vault: vault(), env: { ...env, 'openai.baseUrl': 'http://127.0.0.1:6666/v1' } });
    expect(withEnvUrl.providerSettings().openai).toEqual({ apiKey: 'env-openai', baseUrl: 'http://127.0.0.1:6666/v1' });
  });

  it('reports a secret stored under another data key as NOT_CONFIGURED', () => {
    createSettings({ store, vault: vault(), env: {} }).set('openai.apiKey', 'k1');
    const otherVault = createVault(Buffer.alloc(32, 7));
    const settings = createSettings({ store, vault: otherVault, env: {} });
    expect(() => settings.providerSettings()).toThrow(expect.objectContaining({ code: 'NOT_CONFIGURED' }));
  });

  it('takes PEM certificates for whatsapp.mediaCa (a one-line paste rewrapped), audits them by digest, and refuses anything else unchanged', () => {
    const settings = createSettings({ store, vault: vault(), env: {} });
    const body = Buffer.alloc(150, 1).toString('base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    settings.set('whatsapp.mediaCa', pem.replaceAll('\n', ' '));
    expect(settings.get('whatsapp.mediaCa')).toBe(pem);
    const audit = store.listAudit({ limit: 1 })[0]!;
    expect(audit).toMatchObject({ target: 'whatsapp.mediaCa', newValue: expect.stringMatching(/^sha256:[0-9a-f]{16} \(\d+ characters\)$/) });
    const before = store.dump();
    for (const bad of ['not a certificate', `${pem}trailing junk`, '-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----']) {
      expect(() => settings.set('whatsapp.mediaCa', bad)).toThrow(/whatsapp.mediaCa must be one or more PEM certificates/);
    }
    expect(store.dump()).toEqual(before);
  });
});
