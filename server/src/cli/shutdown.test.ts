/**
 * Shutdown of a real `autoclaw gateway` process while a tool call is stuck:
 * SIGTERM must end the process within its grace time whatever the tool does.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicWireServer } from '../testing';
import { loadOperatorKey } from '../security';
import { skillsFixture, type TestSkill } from '../skills/test-skills';
import { ensureBundle, runCli, startGatewayProcess } from './cli-harness';
import type { GatewayProcess } from './cli-harness';
import { connectAsDevice } from './gateway-client';
import { SHUTDOWN_GRACE_MS } from './gateway-command';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Resolves with the exit code, or rejects when the process is still there after `ms`. */
function exitWithin(gw: GatewayProcess, ms: number): Promise<number | null> {
  return Promise.race([
    gw.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${ms} ms after SIGTERM`)), ms).unref()),
  ]);
}

describe('SIGTERM while a tool call is stuck', () => {
  it('a FIFO read in the workspace: the gateway exits within its grace time', async () => {
    ensureBundle();
    const wire = await startAnthropicWireServer();
    cleanups.push(() => wire.close());
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-shutdown-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'workspace'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'workspace', 'pipe')]);
    const gw = await startGatewayProcess(dir, {
      ANTHROPIC_BASE_URL: wire.url,
      ANTHROPIC_API_KEY: 'sk-ant-any',
      AUTOCLAW_MODEL: 'anthropic:claude-test-model',
    });
    cleanups.push(async () => {
      await gw.stop('SIGKILL');
    });

    const conn = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir) });
    cleanups.push(() => conn.close());
    const session = await conn.client.sessions.ensure.mutate({ name: 'main' });
    await conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'client-fifo-0001', text: '/tool workspace_read_file {"path":"pipe"}' });
    const call = async () => (await conn.client.chat.history.query({ sessionId: session.id }))[1]?.toolCalls[0];
    await expect.poll(async () => (await call())?.status, { timeout: 10_000 }).toBe('awaiting_approval');
    await conn.client.chat.approve.mutate({ toolCallId: (await call())!.id, approve: true });
    // Running (stuck on the FIFO before the fix) or already refused: either way SIGTERM must end it.
    await expect.poll(async () => (await call())?.status, { timeout: 10_000 }).not.toBe('awaiting_approval');

    gw.child.kill('SIGTERM');
    expect(await exitWithin(gw, SHUTDOWN_GRACE_MS + 3_000)).toBe(0);
  });
});

/** A skill whose tool spins forever, ignoring every abort, with a ten-minute time limit. */
const spinner: TestSkill = {
  name: 'spin',
  yaml: `tools:
  - name: spin_forever
    description: Never ends.
    timeoutMs: 600000
    input: { type: object }
`,
  files: { 'index.mjs': 'export const tools = { spin_forever() { for (;;) {} } };\n' },
};

describe('SIGTERM while a skill hangs', () => {
  it('the gateway exits within its grace time and leaves no skill process behind', async () => {
    ensureBundle();
    const wire = await startAnthropicWireServer();
    cleanups.push(() => wire.close());
    const skills = skillsFixture([spinner]);
    cleanups.push(() => skills.remove());
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-shutdown-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' };
    const gw = await startGatewayProcess(dir, env, ['--skills', skills.dir, `--skills-pubkey=${skills.key.publicKey}`]);
    cleanups.push(async () => {
      await gw.stop('SIGKILL');
    });
    expect((await runCli(['skills', 'enable', '--data', dir, 'spin'])).code).toBe(0);

    const conn = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir) });
    cleanups.push(() => conn.close());
    const session = await conn.client.sessions.ensure.mutate({ name: 'main' });
    await conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'client-spin-0001', text: '/tool spin_forever {}' });
    const call = async () => (await conn.client.chat.history.query({ sessionId: session.id }))[1]?.toolCalls[0];
    await expect.poll(async () => (await call())?.status, { timeout: 10_000 }).toBe('running');
    const skillPids = childPids(gw.child.pid!);
    expect(skillPids.length).toBe(1);

    gw.child.kill('SIGTERM');
    expect(await exitWithin(gw, SHUTDOWN_GRACE_MS + 3_000)).toBe(0);
    for (const pid of skillPids) expect(alive(pid), `skill process ${pid}`).toBe(false);
  });
});

function childPids(parent: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(parent)], { encoding: 'utf8' });
  return out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
