#!/usr/bin/env node
// The `autoclaw` command. Runs the prebuilt bundle (made by `npm ci` through
// the root `prepare` script); builds it first when it is missing, so a
// checkout used before any install step still works.
import { setFlagsFromString } from 'node:v8';
import { existsSync } from 'node:fs';

// An idle gateway's memory is a cost paid per user (see bench/): a small
// young generation, and no TurboFan — Maglev's optimized code is fast enough
// for a chat gateway, and TurboFan alone adds ~4 MiB of resident compiler.
setFlagsFromString('--max-semi-space-size=1');
setFlagsFromString('--no-opt');
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/autoclaw.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  const { buildServer } = await import(new URL('../../scripts/build.mjs', import.meta.url).href);
  await buildServer();
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
