#!/usr/bin/env node
// Bundles the desktop app's Electron side: main (desktop/dist/main/main.cjs)
// and the preload (desktop/dist/preload/preload.cjs). Both are CommonJS: a
// sandboxed preload cannot be an ES module and may require only 'electron',
// so everything else (zod, @autoclaw/shared) is bundled in. The renderer is
// built by vite (scripts/build.mjs renderer).
//   node build/build-desktop.mjs [--outdir DIR]
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildDesktop(outdir = join(root, 'desktop', 'dist')) {
  const common = {
    bundle: true,
    format: 'cjs',
    platform: 'node',
    // Electron 41 runs Node 24 in main and the preload.
    target: 'node22',
    external: ['electron'],
    sourcemap: 'linked',
    legalComments: 'none',
    minify: true,
    logLevel: 'warning',
  };
  for (const part of ['main', 'preload']) rmSync(join(outdir, part), { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: [join(root, 'desktop/src/main/main.ts')],
    outfile: join(outdir, 'main', 'main.cjs'),
  });
  await build({
    ...common,
    entryPoints: [join(root, 'desktop/src/preload/preload.ts')],
    outfile: join(outdir, 'preload', 'preload.cjs'),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--outdir');
  const outdir = flag === -1 ? undefined : resolve(process.argv[flag + 1] ?? '');
  try {
    await buildDesktop(outdir);
    console.log('build-desktop: done');
  } catch (error) {
    console.error('build-desktop failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
