/**
 * Test support for channel tests that run the bundled gateway as a process
 * (never imported by product code): per test a data directory, an Anthropic
 * wire server, the gateway process and the platform's local server, all
 * torn down after it; settings through `autoclaw config set`, and waits on
 * `autoclaw channels list`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { ensureBundle, runCli, type GatewayProcess } from '../cli/cli-harness';
import { startAnthropicWireServer, type WireServerHandle } from '../testing';
import { endpointFirst, until } from './test-kit';

export interface ProcessSuite {
  readonly dir: string;
  readonly wire: WireServerHandle;
  /** The running gateway (killed after the test if still set). */
  gw: GatewayProcess | null;
  /** The platform's local server (closed after the test). */
  platform: { close(): Promise<void> } | null;
  /** The environment the gateway runs with (its provider is the wire server). */
  env(): Record<string, string>;
  /** `autoclaw config set` for each setting (endpoints first), then `channels enable`. */
  configure(channel: string, settings: ReadonlyArray<[string, string]>): Promise<void>;
  /** Until `channels list` says the channel is connected. */
  connected(channel: string, timeoutMs?: number): Promise<void>;
}

/** Registers the hooks of a suite of process tests; read its fields inside the tests. */
export function processSuite(prefix: string): ProcessSuite {
  let dir = '';
  let wire: WireServerHandle | null = null;
  const suite: ProcessSuite = {
    get dir() {
      return dir;
    },
    get wire() {
      if (!wire) throw new Error('no wire server outside a test');
      return wire;
    },
    gw: null,
    platform: null,
    env: () => ({ ANTHROPIC_BASE_URL: suite.wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' }),
    async configure(channel, settings) {
      for (const [key, value] of endpointFirst<[string, string]>([...settings])) {
        expect((await runCli(['config', 'set', '--data', dir, key], { input: value })).code).toBe(0);
      }
      expect((await runCli(['channels', 'enable', '--data', dir, channel])).code).toBe(0);
    },
    async connected(channel, timeoutMs = 30_000) {
      await until(`${channel} connected`, async () => {
        const rows = JSON.parse((await runCli(['channels', 'list', '--data', dir, '--json'])).stdout) as Array<{ name: string; state: string }>;
        return rows.find((r) => r.name === channel)?.state === 'connected';
      }, timeoutMs);
    },
  };

  beforeEach(async () => {
    ensureBundle();
    dir = mkdtempSync(join(tmpdir(), prefix));
    wire = await startAnthropicWireServer();
  });

  afterEach(async () => {
    await suite.gw?.stop('SIGKILL');
    suite.gw = null;
    await suite.platform?.close();
    suite.platform = null;
    await wire?.close();
    wire = null;
    rmSync(dir, { recursive: true, force: true });
  });

  return suite;
}
