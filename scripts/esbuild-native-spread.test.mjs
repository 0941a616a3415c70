// The build's replacement of tRPC's `_objectSpread2` helper
// (esbuild-native-spread.mjs): it applies to the installed tRPC (a version
// that changes the helper shows up here), and the replacement gives what the
// original gives — keys, enumerable symbols, descriptors of the even
// arguments, `__proto__` as an own key, null and primitive arguments.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { nativeObjectSpread, withNativeSpread } from './esbuild-native-spread.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** tRPC's files that hold the helper, and the name each exports it as. */
function helperFiles() {
  const out = [];
  for (const pkg of ['server', 'client']) {
    const dist = join(root, 'node_modules', '@trpc', pkg, 'dist');
    for (const file of readdirSync(dist).filter((f) => f.endsWith('.mjs'))) {
      const text = readFileSync(join(dist, file), 'utf8');
      const alias = /_objectSpread2 as (\w+)/.exec(text)?.[1];
      if (text.includes('function _objectSpread2(e) {') && alias) out.push({ path: join(dist, file), alias });
    }
  }
  return out;
}

/** The helper as a bundle makes it, with or without the plugin. */
async function loadHelper({ path, alias }, plugins) {
  const out = await build({
    stdin: { contents: `export { ${alias} as spread } from ${JSON.stringify(path)};`, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    plugins,
    logLevel: 'silent',
  });
  const url = `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`;
  return (await import(url)).spread;
}

/** Everything observable of an object: prototype, and every own key's descriptor. */
function shape(o) {
  return { proto: Object.getPrototypeOf(o), keys: Reflect.ownKeys(o), descriptors: Object.getOwnPropertyDescriptors(o) };
}

describe('native object spread for tRPC', () => {
  it('finds the helper in the installed tRPC server and client', () => {
    const files = helperFiles();
    expect(files.map((f) => f.path).some((p) => p.includes('@trpc/server'))).toBe(true);
    expect(files.map((f) => f.path).some((p) => p.includes('@trpc/client'))).toBe(true);
    for (const f of files) expect(withNativeSpread(readFileSync(f.path, 'utf8'))).toContain('function __acPut(');
    expect(withNativeSpread('export const x = 1;')).toBeNull();
  });

  it('spreads exactly as the original helper', async () => {
    const [file] = helperFiles();
    const original = await loadHelper(file, []);
    const fast = await loadHelper(file, [nativeObjectSpread]);
    expect(fast.toString()).not.toBe(original.toString());
    const visible = Symbol('visible');
    const hidden = Symbol('hidden');
    const withSymbols = () => {
      const o = { a: 1, [visible]: 'v' };
      Object.defineProperty(o, hidden, { value: 'h', enumerable: false });
      Object.defineProperty(o, 'quiet', { value: 'q', enumerable: false });
      return o;
    };
    const cases = [
      () => [{}, { a: 1, b: { c: 2 } }],
      () => [{ a: 0 }, { a: 1 }, {}, { b: 2 }],
      () => [{}, withSymbols()],
      () => [{}, JSON.parse('{"__proto__": {"polluted": true}, "x": 1}')],
      () => [{}, { toString: 'own', constructor: 7 }],
      () => [{}, null, { a: 1 }, undefined],
      () => [{}, 'hi', {}, { n: 1 }],
      () => [{}, 42],
      () => [{}, { a: 1 }, {}, { get computed() { return 'x'; } }],
      () => [{}, [5, 6]],
    ];
    for (const make of cases) {
      const a = original(...make());
      const b = fast(...make());
      expect(shape(b)).toEqual(shape(a));
    }
    expect(({}).polluted).toBeUndefined();
  });
});
