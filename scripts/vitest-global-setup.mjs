// Builds the server bundle and the WebChat once, before any test worker
// starts: CLI and end-to-end tests spawn the built `autoclaw`, and workers
// that each rebuilt it would race on server/dist.
import { buildRenderer, buildServer } from './build.mjs';

export default async function setup() {
  await buildServer();
  await buildRenderer();
}
