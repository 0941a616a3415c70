#!/usr/bin/env -S node --max-semi-space-size=2 --no-opt --optimize-for-size --single-threaded-gc --v8-pool-size=1
// The `autoclaw` command. Runs the prebuilt bundle (made by `npm ci` through
// the root `prepare` script); builds it first when it is missing, so a
// checkout used before any install step still works.
import { existsSync } from 'node:fs';

// The flags on the first line: an idle gateway's memory is a cost paid per
// user (see bench/). A 2 MiB young generation (1 MiB promotes so much that the old generation keeps growing) (V8 fixes its limit at start,
// so it must be a flag), and no TurboFan — Maglev's optimized code is fast
// enough for a chat gateway, and TurboFan alone keeps ~4 MiB of compiler
// resident. --optimize-for-size (V8 favours memory over speed: smaller heap
// growth steps, leaner caches), --single-threaded-gc and --v8-pool-size=1
// (no GC helper threads, one platform thread: fewer per-thread malloc arenas)
// took ~15 MB off a gateway with ten channels idle (bench/channels-all).
// Run as `node server/bin/autoclaw.mjs` the defaults apply.
import { fileURLToPath } from 'node:url';

// `autoclaw chat` has a bundle of its own, holding only what it needs (see scripts/build.mjs).
const bundle = new URL(process.argv[2] === 'chat' ? '../dist/chat.mjs' : '../dist/autoclaw.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  const { buildServer } = await import(new URL('../../scripts/build.mjs', import.meta.url).href);
  await buildServer();
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
