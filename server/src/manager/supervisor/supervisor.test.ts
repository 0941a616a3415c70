/**
 * The supervisor over real gateway processes: kill -9 is detected and the
 * instance is back (timed) — through the driver's exit signal and, for an
 * adopted gateway, through the probes; a hung gateway is marked degraded and
 * restarted; a crash loop ends in `failed` with the gateway's last log lines;
 * a gateway launched for another manager address is re-launched with the
 * current origin; a supervisor whose leader lease moved on writes nothing;
 * stop() leaves no timer.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { databasePath } from '../../gateway';
import { instanceDir } from '../drivers/local';
import { isProcessAlive } from '../drivers/local/process-info';
import { bundleGatewayCommand, startHarness, waitDead, waitFor } from '../drivers/local/test-support';
import type { Harness } from '../drivers/local/test-support';
import { openLeases } from '../cluster';
import { createSupervisor } from './supervisor';
import type { Supervisor } from './supervisor';

let command: string[];
let dispose: () => void;
beforeAll(async () => {
  ({ command, dispose } = await bundleGatewayCommand());
});
afterAll(() => dispose());

describe('the supervisor', () => {
  let h: Harness;
  let supervisor: Supervisor | null = null;
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = null;
    await h.close();
  });

  async function runningWithNewPid(id: string, oldPid: number): Promise<number> {
    const inst = await waitFor('the instance to run again', async () => {
      const i = await h.service.get(id);
      return i?.state === 'running' && i.pid !== oldPid ? i : null;
    }, 15_000);
    return inst.pid as number;
  }

  it('restarts a gateway killed with -9 (exit signal), and one it adopted (probes)', async () => {
    h = await startHarness(command);
    const { id, pid } = await h.service.provision('kill@example.com');
    supervisor = createSupervisor({ service: h.service, driver: h.driver });
    supervisor.start();

    const killedAt = performance.now();
    process.kill(pid as number, 'SIGKILL');
    const newPid = await runningWithNewPid(id, pid as number);
    const ms = performance.now() - killedAt;
    expect(isProcessAlive(newPid)).toBe(true);
    // Timed by the benchmark (supervisor.detect_and_restart_ms); printed here for a glance.
    console.log(`supervisor.detect_and_restart_ms (exit signal) ${Math.round(ms)}`);
    const inst = await h.service.mustGet(id);
    expect(inst.restarts).toBe(1);
    const events = await h.service.events(id);
    expect(events.map((e) => `${e.kind}:${e.to ?? ''}`)).toEqual(expect.arrayContaining(['crash:', 'transition:degraded', 'restart:', 'transition:starting', 'transition:running']));
    await supervisor.stop();

    // A restarted manager: the gateway is adopted (no child handle), so only the probes can see it die.
    const manager2 = await h.reopen();
    const report = await manager2.service.recover();
    expect(report.adopted).toEqual([id]);
    supervisor = createSupervisor({ service: manager2.service, driver: manager2.driver });
    supervisor.start();
    const killedAgain = performance.now();
    process.kill(newPid, 'SIGKILL');
    await runningWithNewPid(id, newPid);
    const probeMs = performance.now() - killedAgain;
    console.log(`supervisor.detect_and_restart_ms (2 s probes) ${Math.round(probeMs)}`);
  });

  it('marks a hung gateway degraded, then restarts it', async () => {
    h = await startHarness(command);
    const { id, pid } = await h.service.provision('hung@example.com');
    supervisor = createSupervisor({ service: h.service, driver: h.driver, intervalMs: 150, probeTimeoutMs: 100, failuresBeforeDegraded: 2, failuresBeforeRestart: 4 });
    supervisor.start();
    process.kill(pid as number, 'SIGSTOP');
    await waitFor('degraded', async () => (await h.service.get(id))?.state === 'degraded', 10_000, 10);
    await runningWithNewPid(id, pid as number);
    await waitDead(pid as number);
    const messages = (await h.service.events(id)).map((e) => e.message);
    expect(messages.some((m) => /health probes failed: no answer within 100 ms/.test(m))).toBe(true);
    expect(messages.some((m) => m.startsWith('unresponsive'))).toBe(true);
  });

  // Three failing starts (each waits for a process to start and fail) take long on a loaded machine.
  it('calls K restarts within the window a crash loop: failed, with the last log lines', { timeout: 90_000 }, async () => {
    h = await startHarness(command);
    const { id, pid } = await h.service.provision('loop@example.com');
    supervisor = createSupervisor({
      service: h.service,
      driver: h.driver,
      backoff: { initialMs: 20, maxMs: 100 },
      crashLoop: { restarts: 3, windowMs: 60_000 },
    });
    supervisor.start();
    // From now on every start fails: the gateway's database is not a database.
    const db = databasePath(instanceDir(h.dir, id));
    rmSync(`${db}-wal`, { force: true });
    rmSync(`${db}-shm`, { force: true });
    writeFileSync(db, 'this is not a database '.repeat(200));
    process.kill(pid as number, 'SIGKILL');

    const failed = await waitFor('failed', async () => {
      const i = await h.service.get(id);
      return i?.state === 'failed' ? i : null;
    }, 60_000);
    expect(failed.lastError).toMatch(/crash loop: 3 restarts within 60 s/);
    expect(failed.lastError).toMatch(/not a database|file is not a database|database/i);
    const last = (await h.service.events(id)).at(-1);
    expect(last).toMatchObject({ kind: 'transition', from: 'starting', to: 'failed' });
    expect(last?.logLines?.length).toBeGreaterThan(1);
    expect((await h.service.events(id)).filter((e) => e.kind === 'restart')).toHaveLength(3);
    expect((await h.driver.status(id)).alive).toBe(false);
    // The supervisor leaves a failed instance alone.
    await supervisor.tick();
    expect((await h.service.get(id))?.state).toBe('failed');
    expect(isProcessAlive(pid as number)).toBe(false);
  });

  it('stop() leaves no timer behind, even with a restart pending', async () => {
    h = await startHarness(command);
    const { id, pid } = await h.service.provision('timers@example.com');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    supervisor = createSupervisor({ service: h.service, driver: h.driver, backoff: { initialMs: 60_000 } });
    supervisor.start();
    process.kill(pid as number, 'SIGKILL');
    await waitFor('the crash to be seen', async () => (await h.service.events(id)).some((e) => e.kind === 'crash'));
    expect(timers()).toBeGreaterThan(before);
    await supervisor.stop();
    supervisor = null;
    expect(timers()).toBe(before);
    // Not restarted after stop(): the pending restart was cancelled.
    expect((await h.service.get(id))?.state).toBe('degraded');
  });

  it('re-launches (gracefully) a gateway launched for another manager address, so the manager UI at its new origin is accepted (issue 8, item 6)', async () => {
    let origins = ['http://127.0.0.1:1111'];
    h = await startHarness(command, { service: { allowedOrigins: () => origins } });
    const { id, pid, url } = await h.service.provision('moved@example.com');
    const upgrade = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${url!.replace(/^http/, 'ws')}/trpc`, { origin });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('open', () => {
          resolve(101);
          ws.terminate();
        });
        ws.once('error', () => undefined);
      });
    expect(await upgrade('http://127.0.0.1:2222')).toBe(403);
    // The manager restarted on another port: the gateway it adopts still knows only the old origin.
    origins = ['http://127.0.0.1:2222'];
    supervisor = createSupervisor({ service: h.service, driver: h.driver, intervalMs: 60_000, drainTimeoutMs: 2_000 });
    supervisor.start();
    await supervisor.tick();
    const after = await h.service.mustGet(id);
    expect(after).toMatchObject({ state: 'running', port: after.port });
    expect(after.pid).not.toBe(pid);
    expect((await h.service.events(id)).map((e) => e.message)).toContain("re-launched to accept the manager's current address (http://127.0.0.1:2222)");
    expect(await upgrade('http://127.0.0.1:2222')).toBe(101);
    // Up to date now: the next round leaves it alone.
    await supervisor.tick();
    expect((await h.service.mustGet(id)).pid).toBe(after.pid);
  });

  it('a supervisor whose leader lease moved on (a paused old leader) writes nothing and restarts nothing', async () => {
    h = await startHarness(command);
    const { id, pid } = await h.service.provision('fenced@example.com');
    let clock = Date.now();
    const leases = await openLeases(h.db, () => clock);
    const mine = (await leases.acquire('leader', 'replica-a', 5_000))!;
    supervisor = createSupervisor({ service: h.service, driver: h.driver, intervalMs: 60_000, fence: (t) => leases.assertHeld(t, mine) });
    // Replica b takes over after a's lease lapsed (a was paused, not dead).
    clock += 10_000;
    expect(await leases.acquire('leader', 'replica-b', 5_000)).toMatchObject({ holder: 'replica-b', token: mine.token + 1 });
    const before = await h.service.events(id);
    process.kill(pid as number, 'SIGKILL');
    await waitDead(pid as number);
    supervisor.start();
    await supervisor.tick();
    await supervisor.tick();
    // The old leader saw the crash but could not write it, so it restarted nothing: that is the new leader's job.
    expect(await h.service.events(id)).toEqual(before);
    expect((await h.service.mustGet(id)).state).toBe('running');
    expect((await h.driver.status(id)).alive).toBe(false);
  });
});
