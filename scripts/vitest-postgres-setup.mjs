// The PostgreSQL test project's global setup: one throw-away cluster for the
// whole run (each test file makes its own databases in it), stopped after
// the last file — or when the run is interrupted.
import { startTestPostgres } from './test-postgres.mjs';

export default async function setup(project) {
  const pg = await startTestPostgres();
  const stop = () => pg.stop();
  process.once('exit', stop);
  project.provide('autoclawPostgresUrl', pg.url);
  return () => {
    process.off('exit', stop);
    stop();
  };
}
