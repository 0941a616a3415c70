/**
 * The desktop shell's layering (STYLE.md: Electron-only code stays thin):
 * only main.ts and preload.ts load 'electron' at run time — every other
 * module takes Electron objects as arguments and imports only its types;
 * the preload's modules use no Node API (a sandboxed preload has none); and
 * api.ts, which the DOM renderer imports, is types only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(folder: string): Array<{ name: string; text: string }> {
  return readdirSync(join(src, folder))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => ({ name, text: readFileSync(join(src, folder, name), 'utf8') }));
}

/** Runtime (not `import type`) imports of a module. */
function runtimeImports(text: string, pattern: RegExp): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
    const [, typeOnly, from = ''] = match;
    if (!typeOnly && pattern.test(from)) found.push(from);
  }
  for (const match of text.matchAll(/\brequire\(\s*'([^']+)'\s*\)|\bimport\(\s*'([^']+)'\s*\)/g)) {
    const from = match[1] ?? match[2] ?? '';
    if (pattern.test(from)) found.push(from);
  }
  return found;
}

describe('desktop shell layers', () => {
  it("only main.ts loads 'electron' in the main process", () => {
    const offenders = sources('main')
      .filter(({ name }) => name !== 'main.ts')
      .filter(({ text }) => runtimeImports(text, /^electron$/).length > 0)
      .map(({ name }) => name);
    expect(offenders).toEqual([]);
    expect(runtimeImports(readFileSync(join(src, 'main', 'main.ts'), 'utf8'), /^electron$/)).toEqual(['electron']);
  });

  it("the preload's modules use no Node API, and only preload.ts loads 'electron'", () => {
    for (const { name, text } of sources('preload')) {
      expect(runtimeImports(text, /^node:|^(fs|path|os|crypto|child_process)$/), name).toEqual([]);
      if (name !== 'preload.ts') expect(runtimeImports(text, /^electron$/), name).toEqual([]);
      expect(runtimeImports(text, /\/main\//), name).toEqual([]);
    }
  });

  it('api.ts is types only', () => {
    const text = readFileSync(join(src, 'preload', 'api.ts'), 'utf8');
    expect(text).not.toMatch(/^\s*export\s+(const|let|var|function|class|enum|default)\b/m);
    expect(text).not.toMatch(/^\s*import\s+(?!type\b)/m);
  });

  it('the finder sees both kinds of import', () => {
    const sample = "import type { App } from 'electron';\nimport { app } from 'electron';\nconst x = require('node:fs');";
    expect(runtimeImports(sample, /^electron$/)).toEqual(['electron']);
    expect(runtimeImports(sample, /^node:/)).toEqual(['node:fs']);
  });
});
