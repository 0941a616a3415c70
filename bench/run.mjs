#!/usr/bin/env node
// `npm run bench`: bundles each bench/*.bench.ts with esbuild, runs them one
// after another (never in parallel: they measure time and memory) and merges
// every figure into bench/results.json as {"name": number}.
import { build } from 'esbuild';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotPaths } from '../scripts/esbuild-hot-paths.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, '.tmp', 'bench');
mkdirSync(outdir, { recursive: true });
const only = process.argv.slice(2);
const files = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

// Helpers a bench starts on a thread of its own (bench/*.thread.ts) are bundled beside it.
const threads = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.thread.ts'));
await build({
  entryPoints: [...files, ...threads].map((f) => join(root, 'bench', f)),
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // Like the server bundle: workspace TypeScript bundled, native addons not.
  external: ['better-sqlite3', 'bufferutil', 'utf-8-validate', 'playwright-core'],
  // The client library as the CLI's bundle has it (scripts/build.mjs).
  plugins: [hotPaths],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});

const resultsPath = join(root, 'bench', 'results.json');
const results = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
let failed = false;
for (const file of files) {
  const script = join(outdir, file.replace(/\.ts$/, '.mjs'));
  const figuresFile = join(outdir, file.replace(/\.ts$/, '.json'));
  console.log(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--expose-gc', script, figuresFile], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0 || !existsSync(figuresFile)) {
    console.error(`${file} failed (exit ${run.status})`);
    failed = true;
    continue;
  }
  Object.assign(results, JSON.parse(readFileSync(figuresFile, 'utf8')));
}
const sorted = Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(resultsPath, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`\nbench/results.json:\n${JSON.stringify(sorted, null, 2)}`);
process.exit(failed ? 1 : 0);
