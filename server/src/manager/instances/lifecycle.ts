/**
 * The lifecycle operations: provision, start, stop, restart, delete. Each
 * runs under the instance's lock and moves it through the state machine one
 * committed transition at a time, so a crash between two steps leaves a
 * state that recover() can finish.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import { wrapDataKey } from '../keys';
import type { Core } from './core';
import { errorText, isShutdown, runtimePatch } from './core';
import { toInstance } from './repository';

export interface OpOptions {
  /** Audit actor: `user:<id>`, `operator` or `system`. */
  actor?: string;
}

export interface RestartOptions {
  reason: string;
  /** `memory`: passed its limit (drained first); `restart`: crashed or unhealthy. */
  kind: 'restart' | 'memory';
  /** Drain running turns before stopping (default: only for `memory`). */
  graceful?: boolean;
  drainTimeoutMs?: number;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

export function normalizeOwner(owner: string): string {
  const email = owner.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new AppError('BAD_REQUEST', 'the owner is an e-mail address');
  return email;
}

export function createLifecycle(core: Core, opts: { memoryLimitMb: number }) {
  const { repo, driver, lock, now } = core;

  async function provisionSteps(id: string): Promise<Instance> {
    const row = repo.mustGet(id);
    let runtime;
    try {
      runtime = await core.withSpec(row, (spec) => driver.provision(spec));
      repo.transition(id, 'starting', 'gateway process started', runtimePatch(runtime), ['provisioning']);
      return toInstance(await core.becomeRunning(id, runtime, 'gateway is ready'));
    } catch (err) {
      // Cut short by the manager closing: the next start resumes it (as after a crash).
      if (!isShutdown(err)) await core.fail(id, err, 'provisioning');
      throw err;
    }
  }

  /**
   * Starts the gateway and waits for it. A failed start by a person marks the
   * instance failed; a failed supervisor restart leaves it `starting` (with
   * the crash as an event) for the supervisor's next attempt or crash-loop verdict.
   */
  async function startSteps(id: string, reason: string, o: { restarted?: boolean; keepOnFailure?: boolean } = {}): Promise<Instance> {
    const before = repo.mustGet(id);
    if (before.state !== 'starting') repo.transition(id, 'starting', reason, { restarted: o.restarted ?? false });
    else if (o.restarted) repo.update(id, { restarted: true });
    try {
      const runtime = await core.withSpec(repo.mustGet(id), (spec) => driver.start(spec));
      repo.update(id, runtimePatch(runtime));
      return toInstance(await core.becomeRunning(id, runtime, 'gateway is ready'));
    } catch (err) {
      if (isShutdown(err)) throw err;
      if (!o.keepOnFailure) {
        await core.fail(id, err, 'start');
        throw err;
      }
      const status = await driver.status(id).catch(() => null);
      if (status?.alive) await driver.stop(id, { graceMs: 2_000 }).catch(() => undefined);
      if (repo.get(id)) repo.update(id, { lastError: errorText(err) }, { kind: 'crash', message: `restart failed: ${errorText(err)}`, logLines: status?.lastLogLines ?? [] });
      throw err;
    }
  }

  return {
    /** Creates the owner's instance (one per user) and brings it to `running`. */
    async provision(owner: string, op: OpOptions = {}): Promise<Instance> {
      const email = normalizeOwner(owner);
      const id = `inst-${randomBytes(6).toString('hex')}`;
      const dataKey = randomBytes(32);
      const wrappedKey = wrapDataKey(core.keys.masterKey, dataKey, id);
      dataKey.fill(0);
      repo.create({ id, owner: email, driver: driver.kind, wrappedKey, memoryLimitMb: opts.memoryLimitMb }, `provisioning for ${email}`);
      core.audit({ actor: op.actor ?? 'system', action: 'instance.provision', target: id, details: { owner: email, driver: driver.kind } });
      return lock.run(id, () => provisionSteps(id));
    },

    /** Resumes an interrupted provisioning (after a manager crash). */
    resumeProvisioning: (id: string) => lock.run(id, () => provisionSteps(id)),

    async start(id: string, op: OpOptions = {}): Promise<Instance> {
      return lock.run(id, async () => {
        const row = repo.mustGet(id);
        if (row.state === 'running' || row.state === 'degraded') return toInstance(row);
        core.audit({ actor: op.actor ?? 'system', action: 'instance.start', target: id });
        return startSteps(id, row.state === 'failed' ? 'retry after failure' : 'start requested');
      });
    },

    async stop(id: string, op: OpOptions = {}): Promise<Instance> {
      return lock.run(id, async () => {
        const row = repo.mustGet(id);
        if (row.state === 'stopped') return toInstance(row);
        core.audit({ actor: op.actor ?? 'system', action: 'instance.stop', target: id });
        if (row.state !== 'stopping') repo.transition(id, 'stopping', 'stop requested');
        try {
          await driver.stop(id);
        } catch (err) {
          await core.fail(id, err, 'stop');
          throw err;
        }
        core.link.forget(id);
        return toInstance(repo.transition(id, 'stopped', 'gateway process ended', { pid: null }));
      });
    },

    /** The supervisor's restart (crash, unhealthy, memory limit); counts as a restart. */
    async restart(id: string, r: RestartOptions): Promise<Instance> {
      return lock.run(id, async () => {
        const row = repo.mustGet(id);
        if (!['running', 'degraded', 'starting'].includes(row.state)) {
          throw new AppError('CONFLICT', `instance ${id} is ${row.state}; only a live instance is restarted`);
        }
        repo.event(id, { kind: r.kind, message: r.reason });
        if ((r.graceful ?? r.kind === 'memory') && row.url !== null && (await driver.status(id)).alive) {
          try {
            const drained = await core.link.call(
              { instanceId: id, url: row.url },
              (client) => client.admin.drain.mutate({ timeoutMs: r.drainTimeoutMs ?? 60_000 }),
              { timeoutMs: (r.drainTimeoutMs ?? 60_000) + 5_000 },
            );
            repo.event(id, { kind: r.kind, message: drained.drained ? 'running turns finished; restarting' : `restarting with ${drained.busySessions} turn(s) still running` });
          } catch (err) {
            repo.event(id, { kind: r.kind, message: `could not drain (${errorText(err)}); restarting anyway` });
          }
        }
        await driver.stop(id, { graceMs: 5_000 });
        core.audit({ actor: 'system', action: 'instance.restart', target: id, details: { reason: r.reason } });
        return startSteps(id, r.reason, { restarted: true, keepOnFailure: true });
      });
    },

    async delete(id: string, op: OpOptions = {}): Promise<void> {
      await lock.run(id, async () => {
        const row = repo.get(id);
        if (!row) throw new AppError('NOT_FOUND', `no instance ${id}`);
        core.audit({ actor: op.actor ?? 'system', action: 'instance.delete', target: id, details: { owner: row.owner } });
        if (row.state !== 'deleting') repo.transition(id, 'deleting', 'delete requested');
        await finishDelete(id);
      });
    },

    finishDelete: (id: string) => lock.run(id, () => finishDelete(id)),

    /** Starts (or adopts) the gateway of an instance left `starting`/`running` by a previous manager. */
    resumeStart: (id: string, reason: string) => lock.run(id, () => startSteps(id, reason)),

    setMemoryLimit(id: string, mb: number): Instance {
      if (!Number.isInteger(mb) || mb < 16 || mb > 65_536) throw new AppError('BAD_REQUEST', 'a memory limit is 16–65536 MiB');
      return toInstance(repo.setMemoryLimit(id, mb));
    },
  };

  async function finishDelete(id: string): Promise<void> {
    try {
      await driver.destroy(id);
    } catch (err) {
      repo.update(id, {}, { kind: 'crash', message: `delete failed (retried at the next manager start): ${errorText(err)}` });
      throw err;
    }
    core.link.forget(id);
    repo.remove(id);
    core.logger.info('instance deleted', { instanceId: id, at: now() });
  }
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
