/**
 * When a manager becomes the leader (at start, or when it takes over from
 * a leader that died): every instance is brought to a legal, settled state.
 * Live ones are re-adopted (the same gateway process keeps running) or
 * restarted; an interrupted provisioning, start or wake resumes (or fails
 * with a reason; a gateway a dead manager already started is adopted, not
 * started twice); a sleeping one whose process outlived its sleep is stopped; an interrupted stop or delete is finished. Never stuck. An
 * instance another live replica is working on right now is left to it.
 */
import type { InstanceState } from '@autoclaw/shared';
import { isStaleLease } from '../cluster';
import type { Core } from './core';
import { errorText, runtimePatch } from './core';
import type { Lifecycle } from './lifecycle';
import type { Fence } from './repository';

export interface RecoveryReport {
  adopted: string[];
  restarted: string[];
  resumed: string[];
  stopped: string[];
  deleted: string[];
  failed: string[];
  /** Left alone: another replica was working on them. */
  busyElsewhere: string[];
}

const CONCURRENCY = 8;

/**
 * `only`: settle just the instances in these states (the leader's periodic
 * sweep for operations whose replica died mid-way: no one holds their lock).
 */
export async function recoverInstances(core: Core, lifecycle: Lifecycle, fence?: Fence, only?: ReadonlySet<InstanceState>): Promise<RecoveryReport> {
  const { repo, driver, lock } = core;
  const report: RecoveryReport = { adopted: [], restarted: [], resumed: [], stopped: [], deleted: [], failed: [], busyElsewhere: [] };

  async function settle(id: string, state: InstanceState): Promise<void> {
    switch (state) {
      case 'running':
      case 'degraded':
      case 'updating': {
        const row = await repo.mustGet(id);
        const last = row.url === null ? null : { url: row.url, ...(row.pid === null ? {} : { pid: row.pid }), ...(row.port === null ? {} : { port: row.port }) };
        const runtime = await lock.run(id, () => driver.adopt(id, last));
        if (runtime) {
          await repo.update(id, runtimePatch(runtime), { kind: 'adopted', message: `gateway${runtime.pid ? ` pid ${runtime.pid}` : ''} re-adopted after a manager restart` }, fence);
          if (state === 'updating') await repo.transition(id, 'running', 'update interrupted by a manager restart; the gateway runs on', {}, undefined, fence);
          report.adopted.push(id);
          return;
        }
        if (state === 'updating') {
          await core.fail(id, new Error('the gateway was gone after a manager restart'), 'update');
          report.failed.push(id);
          return;
        }
        await repo.event(id, { kind: 'crash', message: 'the gateway was not running after a manager restart' }, fence);
        await lifecycle.resumeStart(id, 'restart after a manager restart', ['running', 'degraded'], fence);
        report.restarted.push(id);
        return;
      }
      case 'provisioning':
        await lifecycle.resumeProvisioning(id);
        report.resumed.push(id);
        return;
      case 'starting':
        await lifecycle.resumeStart(id, 'start resumed after a manager restart', ['starting'], fence);
        report.resumed.push(id);
        return;
      case 'stopping':
        await lifecycle.stop(id, { actor: 'system' });
        report.stopped.push(id);
        return;
      case 'deleting':
        await lifecycle.finishDelete(id);
        report.deleted.push(id);
        return;
      case 'restoring':
        await core.fail(id, new Error('interrupted by a manager restart'), 'restore');
        report.failed.push(id);
        return;
      case 'sleeping':
      case 'stopped':
      case 'failed': {
        // Nothing may run unobserved for an instance that is not live.
        if ((await driver.status(id)).alive) {
          await lock.run(id, () => driver.stop(id, { graceMs: 5_000 }));
          await repo.event(id, { kind: 'crash', message: `a stray gateway process of this ${state} instance was stopped` }, fence);
        }
        return;
      }
    }
  }

  const queue = (await repo.list()).filter((row) => !only || only.has(row.state)).map((row) => ({ id: row.id, state: row.state }));
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      try {
        if (await lock.isBusyAnywhere(item.id)) {
          report.busyElsewhere.push(item.id);
          continue;
        }
        // Re-read: the list may be a moment old (another replica may just have moved it).
        const row = await repo.get(item.id);
        if (!row || (only && !only.has(row.state))) continue;
        await settle(item.id, row.state);
      } catch (err) {
        // This replica lost the lead meanwhile: the new leader settles it.
        if (isStaleLease(err)) {
          report.busyElsewhere.push(item.id);
          continue;
        }
        core.logger.warn('instance recovery failed', { instanceId: item.id, state: item.state, err: errorText(err) });
        // Failures already moved it to `failed` (or left an event); never leave it mid-way.
        const row = await repo.get(item.id).catch(() => null);
        if (row && row.state !== 'failed' && row.state !== 'deleting') await core.fail(item.id, err, 'recovery').catch(() => undefined);
        report.failed.push(item.id);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return report;
}
