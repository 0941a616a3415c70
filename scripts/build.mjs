#!/usr/bin/env node
// Builds what the CLI and the gateway run: the server bundle (esbuild, with
// provider SDKs and other heavy parts split into chunks loaded on first use)
// and the WebChat renderer (vite). Runs from `npm ci` (prepare), `npm test`
// and `npm run bench`, so `node_modules/.bin/autoclaw` works right after
// install with no separate step.
import { build } from 'esbuild';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { hotPaths } from './esbuild-hot-paths.mjs';
import { leanFastify, zodEnglishOnly } from './esbuild-lean.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// grammy's fetch polyfill (node-fetch) and its debug logger are never used in
// the gateway — the Telegram adapter gives grammy its own fetch and debug
// output is off — yet loading them costs ~8 MB per idle gateway: stubbed
// out of the bundle for imports made by grammy only.
const GRAMMY_STUBS = {
  'node-fetch': "module.exports = function fetch() { throw new Error('node-fetch is not in this bundle: give grammy a fetch'); };",
  debug: 'const debug = () => Object.assign(() => {}, { enabled: false }); debug.debug = debug; module.exports = debug;',
};
const leanChannelSdks = {
  name: 'lean-channel-sdks',
  setup(b) {
    b.onResolve({ filter: /^(node-fetch|debug)$/ }, (args) =>
      /[\\/]node_modules[\\/]grammy[\\/]/.test(args.importer) ? { path: args.path, namespace: 'grammy-stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'grammy-stub' }, (args) => ({ contents: GRAMMY_STUBS[args.path], loader: 'js' }));
    // baileys' four functions from whatsapp-rust-bridge, without its ~10 MB WebAssembly module (see the file).
    b.onResolve({ filter: /^whatsapp-rust-bridge$/ }, (args) =>
      /[\\/]node_modules[\\/]baileys[\\/]/.test(args.importer) ? { path: join(root, 'server/src/channels/whatsapp/crypto-bridge.ts') } : undefined,
    );
  },
};
const withoutGatewayServer = {
  name: 'without-gateway-server',
  setup(b) {
    b.onResolve({ filter: /^\.\/server$/ }, (args) =>
      /[\\/]server[\\/]src[\\/]gateway[\\/]index\.ts$/.test(args.importer) ? { path: 'gateway-server', namespace: 'not-in-chat' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'not-in-chat' }, () => ({
      contents: "export function startGateway() { throw new Error('the gateway is not in the chat bundle'); }",
      loader: 'js',
    }));
  },
};
const only = process.argv[2]; // 'server' | 'renderer' | undefined (both)
const started = Date.now();

export async function buildServer() {
  // Built aside and swapped in, so a process starting meanwhile never sees half a bundle.
  const finalDir = join(root, 'server/dist');
  const outdir = `${finalDir}.tmp-${process.pid}`;
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { autoclaw: join(root, 'server/src/cli/main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    minify: true,
    keepNames: false,
    legalComments: 'none',
    // Native addons and optional native accelerators stay in node_modules.
    external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
    plugins: [leanChannelSdks, leanFastify, zodEnglishOnly, hotPaths],
    // CommonJS dependencies inside an ESM bundle need require/__dirname.
    banner: {
      js: [
        "import { createRequire as __acCreateRequire } from 'node:module';",
        "import { fileURLToPath as __acFileURLToPath } from 'node:url';",
        "import { dirname as __acDirname } from 'node:path';",
        'const require = __acCreateRequire(import.meta.url);',
        'const __filename = __acFileURLToPath(import.meta.url);',
        'const __dirname = __acDirname(__filename);',
      ].join('\n'),
    },
    logLevel: 'warning',
  });
  // `autoclaw chat` alone, as one file without splitting: a split bundle
  // loads every module a shared chunk holds (zod and the schemas among them,
  // a third of the command's start-up), while one file keeps only what the
  // command uses. The gateway door's lazy `import('./server')` is never taken
  // by chat; it is left out instead of being inlined. CommonJS: run by
  // server/bin/chat.cjs through vm.Script, with a V8 code cache.
  await build({
    entryPoints: { chat: join(root, 'server/src/cli/chat-main.ts') },
    outdir,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.cjs' },
    minify: true,
    legalComments: 'none',
    external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
    plugins: [withoutGatewayServer, hotPaths],
    logLevel: 'warning',
  });
  // The process each skill runs in: one small file, so the permission model
  // can allow reading exactly it (see server/src/skills/host/skill-host.ts).
  await build({
    entryPoints: { 'skill-host': join(root, 'server/src/skills/host/skill-host.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const old = `${finalDir}.old-${process.pid}`;
  if (existsSync(finalDir)) renameSync(finalDir, old);
  renameSync(outdir, finalDir);
  rmSync(old, { recursive: true, force: true });
}

export async function buildRenderer() {
  if (!existsSync(join(root, 'vite.config.ts'))) return;
  const { build: viteBuild } = await import('vite');
  // Always the production build: vite follows NODE_ENV, and vitest (whose
  // global setup calls this) sets it to "test", which ships React's
  // development bundle (StrictMode double effects, dev warnings).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await viteBuild({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    if (only !== 'renderer') await buildServer();
    if (only !== 'server') await buildRenderer();
    console.log(`build: done in ${Date.now() - started} ms`);
  } catch (err) {
    console.error('build failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
