import { defineConfig } from 'vitest/config';

// Unit and integration tests sit beside the code; end-to-end tests in e2e/.
// Every test uses real servers on loopback port 0, so files run in parallel
// processes without colliding.
export default defineConfig({
  test: {
    include: ['shared/src/**/*.test.ts', 'server/src/**/*.test.ts', 'desktop/src/**/*.test.{ts,tsx}', 'e2e/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    globalSetup: ['scripts/vitest-global-setup.mjs'],
  },
});
