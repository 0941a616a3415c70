// Builds the server bundle and the WebChat once, before any test worker
// starts: CLI and end-to-end tests spawn the built `autoclaw`, and workers
// that each rebuilt it would race on server/dist. Both test projects (SQLite
// and PostgreSQL) list this file; the build runs once per test run.
import { buildRenderer, buildServer } from './build.mjs';

export default async function setup() {
  globalThis.__autoclawTestBuild ??= (async () => {
    await buildServer();
    await buildRenderer();
  })();
  await globalThis.__autoclawTestBuild;
}
