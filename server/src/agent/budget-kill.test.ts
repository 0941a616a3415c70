/**
 * kill -9 right after a provider call's usage reached the agent: a real
 * process (budget-kill-child.ts, bundled here) SIGKILLs itself the moment
 * the usage event arrives; the usage row is in the file and no reservation
 * is left after the restart's recovery.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import type { WireServerHandle } from '../testing';

describe('kill -9 after a settled call', () => {
  let dir: string;
  let wire: WireServerHandle;
  let child: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-budget-kill-'));
    wire = await startAnthropicWireServer({ apiKey: 'sk-test-key-123' });
    const out = await build({
      entryPoints: [join(import.meta.dirname, 'budget-kill-child.ts')],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3'],
      banner: { js: "import { createRequire as __bkCreateRequire } from 'node:module'; const require = __bkCreateRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    // Beside the sources, so `better-sqlite3` resolves from the workspace's node_modules.
    child = join(import.meta.dirname, `.budget-kill-child-${process.pid}.mjs`);
    writeFileSync(child, out.outputFiles[0]?.text ?? '');
  });
  afterAll(async () => {
    await wire.close();
    rmSync(child, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no usage row: it is committed before the usage event goes on', { timeout: 60_000 }, async () => {
    const path = join(dir, 'gateway.db');
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const proc = spawn(process.execPath, [child, path, wire.url], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      proc.on('error', reject);
      proc.on('exit', (code, sig) => (sig === null ? reject(new Error(`child exited ${code}: ${err}`)) : resolve(sig)));
    });
    expect(signal).toBe('SIGKILL');
    expect(wire.requests).toHaveLength(1);
    const store = openStore({ path });
    try {
      store.recover();
      expect(store.usageSummary().calls).toBe(1);
      expect(store.usageSummary().costMicros).toBeGreaterThan(0);
      expect(store.budgetStatus().reserved.calls).toBe(0);
    } finally {
      store.close();
    }
  });
});
