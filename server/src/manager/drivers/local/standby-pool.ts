/**
 * Warm standbys: gateway processes started ahead of need (`autoclaw gateway
 * --standby --data DIR/standby/<sb-id>`) that have loaded their code and wait
 * on fd 3 for an assignment. A start hands one the instance's arguments and
 * data key instead of spawning Node, which skips Node's start-up and module
 * loading — most of a wake. The pool starts a replacement a little after a
 * standby is taken (not during the wake it serves), and only for the command
 * and environment of the starts it has seen, so a manager that never starts
 * an instance never runs a standby. A standby ends by itself when its pipe
 * closes (close(), or the manager dies).
 *
 * A standby's command line does not name its instance (it was started before
 * anyone knew it): the driver's record names the standby, and its --data
 * names that standby's directory, which only it has.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, appendFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { logPath } from './instance-files';
import { commandLineOf, isProcessAlive } from './process-info';

export interface StandbyPoolOptions {
  /** DIR/standby: one directory per standby (its log until it is assigned). */
  root: string;
  /** Standbys kept ready per command and environment (0: none, the pool is off). */
  size: number;
  /** How long after a standby was taken its replacement starts (default 3 s: the woken instance's first turn goes first). */
  refillDelayMs?: number;
}

export interface Standby {
  readonly id: string;
  readonly pid: number;
  /**
   * Makes it the gateway of the instance whose data directory is `dir`: its
   * log becomes `dir`'s (the old lines kept), then `args` and `key` go down
   * its pipe. `onExit` hears when it ends.
   */
  assign(dir: string, args: string[], key: Buffer, onExit: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** Its exit, when it has ended. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Called once when it ends (after assign's onExit). */
  onEnd(fn: () => void): void;
}

export interface StandbyPool {
  /** A ready standby for this command and environment, or null (the caller spawns); remembers them for refills. */
  take(command: readonly string[], env: Record<string, string>): Standby | null;
  /**
   * Starts standbys for one start about to happen (an update's switch), even
   * with the pool off: up to `count` wait for this command and environment;
   * one not taken within `ttlMs` ends by itself (no refill follows).
   */
  warm(command: readonly string[], env: Record<string, string>, count: number, ttlMs: number): void;
  /** The standby directory of `id`: what a standby's command line names after --data. */
  dirOf(id: string): string;
  /** Live standbys waiting for an assignment. */
  waiting(): number;
  /** Lets every waiting standby go (they end) and starts no more. */
  close(): Promise<void>;
}

const STANDBY_ID = /^sb-[0-9a-f]{12}$/;

/** True when `pid` is the standby `id` started under `root` (pids are reused: its --data names its own directory). */
export function isStandbyProcess(pid: number, root: string, id: string): boolean {
  if (!STANDBY_ID.test(id) || !isProcessAlive(pid)) return false;
  const args = commandLineOf(pid);
  if (args === null) return false;
  const at = args.indexOf('--data');
  return args.includes('--standby') && at >= 0 && args[at + 1] === join(root, id);
}

interface Entry {
  key: string;
  command: readonly string[];
  env: Record<string, string>;
  child: ChildProcess;
  pipe: Socket;
  standby: Standby;
}

export function createStandbyPool(opts: StandbyPoolOptions): StandbyPool {
  const ready: Entry[] = [];
  /** The command and environment of each kind of start seen (refills are made for these). */
  const kinds = new Map<string, { command: readonly string[]; env: Record<string, string> }>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const dirOf = (id: string) => join(opts.root, id);
  const keyOf = (command: readonly string[], env: Record<string, string>) => JSON.stringify([command, Object.entries(env).sort(([a], [b]) => a.localeCompare(b))]);

  function startOne(key: string, command: readonly string[], env: Record<string, string>, ttlMs?: number): void {
    const [exe, ...pre] = command;
    if (exe === undefined || closed) return;
    const id = `sb-${randomBytes(6).toString('hex')}`;
    const dir = dirOf(id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const log = logPath(dir);
    const out = openSync(log, 'a', 0o600);
    let child: ChildProcess;
    try {
      // Its working directory is the pool's root, not its own directory, which goes at its assignment (maybe while it still loads code that reads the cwd).
      child = spawn(exe, [...pre, 'gateway', '--standby', '--data', dir], { cwd: opts.root, detached: true, stdio: ['ignore', out, out, 'pipe'], env });
    } finally {
      closeSync(out);
    }
    child.unref();
    child.once('error', () => undefined); // a spawn failure shows as an exit
    const pipe = child.stdio[3] as Socket | null;
    const pid = child.pid;
    if (!pipe || pid === undefined) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    pipe.on('error', () => {}); // it may end before reading
    pipe.unref();
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let assignedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null = null;
    const ends: Array<() => void> = [];
    const standby: Standby = {
      id,
      pid,
      assign(instanceDir, args, dataKey, onExit) {
        assignedExit = onExit;
        // Its output goes on in the same file (O_APPEND), now in the instance's directory, after the instance's earlier lines.
        const target = logPath(instanceDir);
        if (existsSync(target)) appendFileSync(log, readFileSync(target));
        renameSync(log, target);
        removeWhileRehearsing(dir);
        const message = Buffer.concat([Buffer.from(`${JSON.stringify(args)}\n`), dataKey]);
        pipe.end(message, () => message.fill(0));
      },
      exited: () => exit,
      onEnd: (fn) => ends.push(fn),
    };
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      const at = ready.findIndex((e) => e.child === child);
      if (at >= 0) {
        ready.splice(at, 1);
        rmSync(dir, { recursive: true, force: true });
      }
      assignedExit?.(code, signal);
      for (const fn of ends.splice(0)) fn();
    });
    ready.push({ key, command, env, child, pipe, standby });
    if (ttlMs !== undefined) {
      // Not taken in time: its empty pipe closing is its cue to end.
      const timer = setTimeout(() => {
        timers.delete(timer);
        const at = ready.findIndex((e) => e.child === child);
        if (at >= 0) ready.splice(at, 1)[0]?.pipe.end();
      }, ttlMs);
      timer.unref();
      timers.add(timer);
    }
  }

  function refillLater(key: string): void {
    if (closed || opts.size <= 0) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const kind = kinds.get(key);
      if (!kind) return;
      const have = ready.filter((e) => e.key === key).length;
      for (let i = have; i < opts.size; i++) startOne(key, kind.command, kind.env);
    }, opts.refillDelayMs ?? 3_000);
    timer.unref();
    timers.add(timer);
  }

  return {
    take(command, env) {
      if (closed) return null;
      const key = keyOf(command, env);
      const at = ready.findIndex((e) => e.key === key && e.standby.exited() === null);
      if (opts.size > 0) {
        if (!kinds.has(key)) kinds.set(key, { command: [...command], env: { ...env } });
        refillLater(key);
      }
      if (at < 0) return null;
      const [entry] = ready.splice(at, 1);
      return entry ? entry.standby : null;
    },
    warm(command, env, count, ttlMs) {
      const key = keyOf(command, env);
      const have = ready.filter((e) => e.key === key && e.standby.exited() === null).length;
      for (let i = have; i < count; i++) startOne(key, command, env, ttlMs);
    },
    dirOf,
    waiting: () => ready.length,
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const waiting = ready.splice(0);
      // An empty pipe closing is a standby's cue to end.
      for (const e of waiting) e.pipe.end();
      await Promise.all(
        waiting.map(
          (e) =>
            new Promise<void>((resolve) => {
              if (e.standby.exited() !== null) return resolve();
              const kill = setTimeout(() => {
                try {
                  process.kill(-e.standby.pid, 'SIGKILL');
                } catch {
                  // gone
                }
              }, 5_000);
              e.standby.onEnd(() => {
                clearTimeout(kill);
                resolve();
              });
            }),
        ),
      );
      for (const e of waiting) rmSync(dirOf(e.standby.id), { recursive: true, force: true });
    },
  };
}

/**
 * Removes a standby's directory at its assignment. Its start rehearsal may
 * still be writing there (standby-rehearsal.ts), and a file made while the
 * tree is removed fails the removal (ENOTEMPTY): that is not the
 * assignment's failure. The rehearsal removes what it made when it ends.
 */
function removeWhileRehearsing(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 10 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw err;
  }
}
