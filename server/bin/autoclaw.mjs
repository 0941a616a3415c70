#!/bin/sh
':' /*
case "$1" in chat) exec node -e 'require(require("path").join(require("fs").realpathSync(process.argv[1]), "../chat.cjs"))(process.argv.slice(2))' "$0" "$@";; gateway) export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-32768}";; esac
exec node --max-semi-space-size=2 --no-opt --optimize-for-size --single-threaded-gc --v8-pool-size=1 --liftoff-only "$0" "$@"
*/
// The `autoclaw` command. Runs the prebuilt bundle (made by `npm ci` through
// the root `prepare` script); builds it first when it is missing, so a
// checkout used before any install step still works.
//
// The lines above are read by sh, which execs node (one process, as with
// `env`); to JavaScript they are a string and a comment. `autoclaw chat`, a
// one-off command, starts through bin/chat.cjs as CommonJS (no ES module
// loader) and without the flags below: they change V8's flag hash
// (v8.cachedDataVersionTag()), which makes V8 reject Node's built-in code
// cache, so each of the ~90 core modules a turn loads (http, crypto,
// streams, …) would be compiled from source. Every other command gets them.
//
// The flags: an idle gateway's memory is a cost paid per
// user (see bench/). A 2 MiB young generation (1 MiB promotes so much that the old generation keeps growing) (V8 fixes its limit at start,
// so it must be a flag), and no TurboFan — Maglev's optimized code is fast
// enough for a chat gateway, and TurboFan alone keeps ~4 MiB of compiler
// resident. --optimize-for-size (V8 favours memory over speed: smaller heap
// growth steps, leaner caches), --single-threaded-gc and --v8-pool-size=1
// (no GC helper threads, one platform thread: fewer per-thread malloc arenas)
// took ~15 MB off a gateway with ten channels idle (bench/channels-all).
// --liftoff-only: WebAssembly (undici's HTTP parser, under Slack's socket)
// stays on baseline code; tiering it up held 10–30 MB.
// `autoclaw gateway` also gets MALLOC_MMAP_THRESHOLD_ (glibc reads it at
// start): V8's 32 KiB parser and compiler zones are mapped and unmapped on
// their own instead of leaving holes glibc never returns (~17 MB once
// baileys loaded). Not for the other commands: the extra mmaps cost a
// one-off command ~80 ms of CPU. The manager's local driver starts gateways
// with the same (GATEWAY_NODE_FLAGS, GATEWAY_MALLOC_ENV in local-driver.ts).
// Run as `node server/bin/autoclaw.mjs` the defaults apply.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'chat') {
  // `autoclaw chat` has a bundle of its own, holding only what it needs (see scripts/build.mjs and bin/chat.cjs).
  await createRequire(import.meta.url)('./chat.cjs')(process.argv.slice(2));
} else {
  const bundle = new URL('../dist/autoclaw.mjs', import.meta.url);
  if (!existsSync(fileURLToPath(bundle))) {
    const { buildServer } = await import(new URL('../../scripts/build.mjs', import.meta.url).href);
    await buildServer();
  }
  const { main } = await import(bundle.href);
  process.exitCode = await main(process.argv.slice(2));
}
