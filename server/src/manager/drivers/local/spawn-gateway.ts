/**
 * Starts one detached gateway process: its own process group (so it
 * outlives a manager crash), stdout/stderr appended to its log, and the data
 * key written into an inherited pipe on fd 3 (`--data-key-fd 3`) — never an
 * argument, an environment variable or a file. Resolves once the gateway
 * wrote its runtime file (it is ready: see runtime-signal.ts), rejects with
 * its last log lines when it exits first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { AppError } from '@autoclaw/shared';
import type { InstanceRuntime, InstanceSpec } from '../types';
import { lastLogLines, logPath, writeRecord } from './instance-files';
import { waitForRuntimeFile } from './runtime-signal';

export interface SpawnOptions {
  /** [executable, ...args] that runs `autoclaw`. */
  command: readonly string[];
  dir: string;
  host: string;
  port: number;
  env: Record<string, string>;
  startTimeoutMs: number;
  now: () => number;
  onExit: (child: ChildProcess, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Fallback polls for the runtime file (default: 10 ms doubling up to 200 ms; tests make them hours to show the watch suffices). */
  pollMs?: (n: number) => number;
}

/** The gateway's arguments; `keyFd` false for a warm standby, which gets the key with its assignment. */
export function gatewayArgs(spec: InstanceSpec, dir: string, host: string, port: number, o: { keyFd?: boolean } = {}): string[] {
  return [
    'gateway',
    '--data', dir,
    '--host', host,
    '--port', String(port),
    '--instance-id', spec.instanceId,
    ...(o.keyFd === false ? [] : ['--data-key-fd', '3']),
    // `=`: a base64url key may start with '-', which parseArgs would take for a flag.
    `--manager-key=${spec.managerPublicKey}`,
    ...spec.allowedOrigins.flatMap((o) => ['--allow-origin', o]),
    ...(spec.tailscale ? ['--tailscale-owner', spec.tailscale.ownerLogin] : []),
    ...(spec.tailscale?.socketPath ? ['--tailscale-socket', spec.tailscale.socketPath] : []),
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills the process group of a gateway that did not start in time. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The gateway exited during start-up; `portInUse` when its port was taken meanwhile. */
export class StartFailure extends AppError {
  constructor(
    message: string,
    readonly logLines: string[],
    readonly portInUse: boolean,
  ) {
    super('INTERNAL', message, { details: { logLines } });
  }
}

export async function spawnGateway(spec: InstanceSpec, opts: SpawnOptions): Promise<InstanceRuntime & { pid: number; port: number }> {
  const [exe, ...pre] = opts.command;
  if (exe === undefined) throw new AppError('NOT_CONFIGURED', 'no command to run the gateway');
  const out = openSync(logPath(opts.dir), 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(exe, [...pre, ...gatewayArgs(spec, opts.dir, opts.host, opts.port)], {
      cwd: opts.dir,
      detached: true,
      stdio: ['ignore', out, out, 'pipe'],
      env: opts.env,
    });
  } finally {
    closeSync(out);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  let nudge = () => {};
  child.once('error', (err) => {
    spawnError = err;
  });
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    opts.onExit(child, code, signal);
    nudge();
  });
  child.unref();
  const keyPipe = child.stdio[3] as Socket | null;
  if (keyPipe) {
    keyPipe.on('error', () => {}); // the child may die before reading
    keyPipe.unref();
    const copy = Buffer.from(spec.dataKey);
    keyPipe.end(copy, () => copy.fill(0));
  }
  const pid = child.pid;
  try {
    if (pid === undefined) {
      await sleep(0);
      throw new AppError('NOT_CONFIGURED', `cannot run the gateway (${exe}): ${(spawnError as Error | null)?.message ?? 'spawn failed'}`);
    }
    writeRecord(opts.dir, { pid, port: opts.port, startedAt: opts.now() });
    return await awaitStart(opts.dir, pid, {
      startTimeoutMs: opts.startTimeoutMs,
      exited: () => exited,
      onNudge: (n) => {
        nudge = n;
      },
      ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    });
  } finally {
    keyPipe?.destroy();
  }
}

/**
 * Waits for a started gateway (spawned, or a standby just assigned) to write
 * its runtime file; a StartFailure with its last log lines when it exits
 * first, TIMEOUT (and its group killed) when it takes too long.
 */
export async function awaitStart(
  dir: string,
  pid: number,
  o: { startTimeoutMs: number; exited: () => { code: number | null; signal: NodeJS.Signals | null } | null; onNudge: (nudge: () => void) => void; pollMs?: (n: number) => number },
): Promise<InstanceRuntime & { pid: number; port: number }> {
  const deadline = performance.now() + o.startTimeoutMs;
  const runtime = await waitForRuntimeFile(dir, pid, {
    gaveUp: () => o.exited() !== null || performance.now() > deadline,
    onNudge: o.onNudge,
    ...(o.pollMs ? { pollMs: o.pollMs } : {}),
  });
  if (runtime) return { url: runtime.url, pid, port: runtime.port };
  const exited = o.exited();
  if (exited !== null) {
    const lines = lastLogLines(dir, 20);
    const portInUse = lines.some((l) => l.includes('already in use'));
    throw new StartFailure(`the gateway exited during start-up (${exited.signal ?? `code ${exited.code}`}): ${lines.at(-1) ?? 'no output'}`, lines, portInUse);
  }
  killGroup(pid);
  throw new AppError('TIMEOUT', `the gateway did not start within ${o.startTimeoutMs} ms`);
}
