/**
 * electron-builder.yml, checked against electron-builder's own configuration
 * JSON schema (app-builder-lib/scheme.json) with ajv, and through
 * electron-builder's own loader and validator; then the facts the product
 * needs: hardened runtime, the targets, the autoclaw:// scheme, the icons.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { DEEP_LINK_SCHEME } from './deep-link';
import { PRODUCT } from './product';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(import.meta.url);
const schema: unknown = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));

interface BuilderConfig {
  appId?: string;
  productName?: string;
  directories?: { app?: string; output?: string; buildResources?: string };
  files?: string[];
  icon?: string;
  protocols?: Array<{ name: string; schemes: string[] }>;
  electronFuses?: Record<string, boolean>;
  mac?: { target?: string[]; hardenedRuntime?: boolean; entitlements?: string; entitlementsInherit?: string; icon?: string };
  win?: { target?: string[]; icon?: string };
  linux?: { target?: string[]; category?: string; maintainer?: string; icon?: string };
}

const yamlText = readFileSync(join(root, 'electron-builder.yml'), 'utf8');
const config = load(yamlText) as BuilderConfig;

/** The scheme uses ajv-keywords' `typeof`, which electron-builder itself runs with strict: false. */
function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema as object);
}

function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('electron-builder.yml', () => {
  it("validates against electron-builder's configuration schema", () => {
    const validate = validator();
    const valid = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check bites: broken variants are refused', () => {
    const validate = validator();
    const broken: unknown[] = [
      { ...config, bogusOption: true },
      { ...config, mac: { ...config.mac, hardenedRuntime: 'yes' } },
      { ...config, protocols: [{ name: 'AutoClaw link' }] },
      { ...config, linux: { ...config.linux, target: 42 } },
    ];
    for (const variant of broken) expect(validate(variant)).toBe(false);
  });

  it("passes electron-builder's own loader and validator", async () => {
    const loaded = await getConfig(root, join(root, 'electron-builder.yml'), null);
    await expect(validateConfiguration(loaded, new DebugLogger(false))).resolves.toBeUndefined();
    expect(loaded.appId).toBe(config.appId);
  });

  it('names the app as the code does', () => {
    expect(config.appId).toBe(PRODUCT.appId);
    expect(config.productName).toBe(PRODUCT.name);
  });

  it('builds a hardened macOS dmg with its entitlements', () => {
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.mac?.hardenedRuntime).toBe(true);
    for (const path of [config.mac?.entitlements, config.mac?.entitlementsInherit]) {
      expect(path).toBe('build/entitlements.mac.plist');
    }
    const plist = readFileSync(join(root, 'build', 'entitlements.mac.plist'), 'utf8');
    expect(plist).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(plist).toContain('<key>com.apple.security.cs.allow-jit</key>');
    // The hardened runtime's exceptions stay closed.
    expect(plist).not.toContain('disable-library-validation');
    expect(plist).not.toContain('allow-unsigned-executable-memory');
  });

  it('builds a Windows installer and Linux AppImage and deb', () => {
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.linux?.category).toBe('Network');
    expect(config.linux?.maintainer).toMatch(/^.+ <.+@.+>$/);
  });

  it('registers the autoclaw:// scheme', () => {
    expect(config.protocols).toEqual([{ name: 'AutoClaw link', schemes: [DEEP_LINK_SCHEME] }]);
  });

  it('has its icons in build/, large enough for every platform', () => {
    expect(config.directories?.buildResources).toBe('build');
    for (const path of [config.icon, config.mac?.icon, config.win?.icon, config.linux?.icon]) {
      expect(path).toBe('build/icon.png');
    }
    const { width, height } = pngSize(join(root, 'build', 'icon.png'));
    expect(width).toBe(height);
    // macOS needs at least 512×512, Windows 256×256; 1024 is what electron-builder recommends.
    expect(width).toBeGreaterThanOrEqual(512);
  });

  it('packs only the bundles the app runs, with the entry desktop/package.json names', () => {
    expect(config.directories).toEqual({ app: 'desktop', output: 'dist/desktop', buildResources: 'build' });
    expect(config.files).toEqual(
      expect.arrayContaining(['package.json', 'dist/main/**', 'dist/preload/**', 'dist/renderer/**', '!**/node_modules/**']),
    );
    const app = JSON.parse(readFileSync(join(root, 'desktop', 'package.json'), 'utf8')) as { main?: string };
    expect(app.main).toBe('dist/main/main.cjs');
    expect(existsSync(join(root, 'build', 'build-desktop.mjs'))).toBe(true);
  });

  it('turns off the Electron fuses an attacker could use', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
