// The build's rewrites of two dependencies' hot helpers
// (esbuild-hot-paths.mjs): each applies to the installed version (one that
// changes the helper shows up here), and gives what the original gives —
// tRPC's `_objectSpread2`: keys, enumerable symbols, descriptors of the even
// arguments, `__proto__` as an own key, null and primitive arguments; the
// Anthropic SDK's `collectStainlessHelpers`: the same helper names from
// tools, messages, blocks and tool definitions, non-arrays included.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { hotPaths, patchSource } from './esbuild-hot-paths.mjs';

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

/** The module a bundle of `entry` makes, with or without the plugin. */
async function loadBundle(entry, plugins) {
  const out = await build({
    stdin: { contents: entry, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    plugins,
    logLevel: 'silent',
  });
  const url = `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`;
  return import(url);
}

/** tRPC's helper as a bundle makes it. */
async function loadHelper({ path, alias }, plugins) {
  return (await loadBundle(`export { ${alias} as spread } from ${JSON.stringify(path)};`, plugins)).spread;
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
    for (const f of files) expect(patchSource(f.path, readFileSync(f.path, 'utf8'))).toContain('function __acPut(');
    expect(patchSource(files[0].path, 'export const x = 1;')).toBeNull();
  });

  it('spreads exactly as the original helper', async () => {
    const [file] = helperFiles();
    const original = await loadHelper(file, []);
    const fast = await loadHelper(file, [hotPaths]);
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

describe("the Anthropic SDK's request helper walk", () => {
  const path = join(root, 'node_modules/@anthropic-ai/sdk/internal/stainless-helper-header.mjs');
  const entry = `export { collectStainlessHelpers, SDK_HELPER_SYMBOL } from ${JSON.stringify(path)};`;

  it('applies to the installed SDK', () => {
    expect(patchSource(path, readFileSync(path, 'utf8'))).toContain('__acCollectStainlessHelpersReplaced');
  });

  it('finds the same helpers as the original', async () => {
    const original = await loadBundle(entry, []);
    const fast = await loadBundle(entry, [hotPaths]);
    expect(fast.collectStainlessHelpers.toString()).not.toBe(original.collectStainlessHelpers.toString());
    const cases = (mark) => [
      [undefined, undefined],
      [[], []],
      [[mark({ name: 't' }, 'mcpTool'), { name: 'plain' }], [{ role: 'user', content: 'text' }]],
      [undefined, [mark({ role: 'user', content: [] }, 'mcpMessage'), { role: 'assistant', content: [mark({ type: 'text' }, 'compaction'), { type: 'tool_addition', tool: { definition: mark({}, 'betaZodTool') } }, null] }]],
      [new Set([mark({}, 'mcpTool')]), new Set([{ role: 'user', content: [mark({}, 'mcpContent')] }])],
      [undefined, [{ role: 'user', content: [{ type: 'text', text: 'a' }] }, { role: 'assistant', content: [{ type: 'text', text: 'b' }] }]],
    ];
    const marker = (mod) => (o, name) => Object.assign(o, { [mod.SDK_HELPER_SYMBOL]: name });
    const want = cases(marker(original)).map(([t, m]) => original.collectStainlessHelpers(t, m));
    const got = cases(marker(fast)).map(([t, m]) => fast.collectStainlessHelpers(t, m));
    expect(got).toEqual(want);
    expect(want.flat().length).toBeGreaterThan(4);
    expect(() => fast.collectStainlessHelpers(undefined, [null])).toThrow(TypeError);
    expect(() => original.collectStainlessHelpers(undefined, [null])).toThrow(TypeError);
  });
});
