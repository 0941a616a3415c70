import { defineConfig } from 'vitest/config';

// Unit and integration tests sit beside the code; end-to-end tests in e2e/.
// Every test uses real servers on loopback port 0, so files run in parallel
// processes without colliding.
//
// Two projects: every test on the embedded defaults (SQLite), and the
// manager's tests once more on PostgreSQL — a throw-away cluster started for
// the run, each test's manager on a database of its own. Tests only the
// PostgreSQL engine can have (several replicas) are named *.pg.test.ts.
const MANAGER_TESTS = ['server/src/manager/**/*.test.ts', 'server/src/cli/manager-cli.test.ts', 'server/src/cli/instances-command.test.ts', 'server/src/cli/updates-cli.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['shared/src/**/*.test.ts', 'server/src/**/*.test.ts', 'desktop/src/**/*.test.{ts,tsx}', 'e2e/**/*.test.ts', 'scripts/**/*.test.mjs'],
          exclude: ['**/node_modules/**', '**/*.pg.test.ts'],
          globalSetup: ['scripts/vitest-global-setup.mjs'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: MANAGER_TESTS,
          globalSetup: ['scripts/vitest-global-setup.mjs', 'scripts/vitest-postgres-setup.mjs'],
        },
      },
    ],
  },
});
