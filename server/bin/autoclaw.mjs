#!/usr/bin/env node
// The `autoclaw` command. Runs the prebuilt bundle (made by `npm ci` through
// the root `prepare` script); builds it first when it is missing, so a
// checkout used before any install step still works.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/autoclaw.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  const { buildServer } = await import(new URL('../../scripts/build.mjs', import.meta.url).href);
  await buildServer();
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
