/**
 * `autoclaw gateway`: runs a gateway in the foreground until SIGTERM/SIGINT.
 * `autoclaw gateway --standby` is a warm standby the local driver keeps
 * (see drivers/local/standby-pool.ts): it loads the gateway's code ahead of
 * time, then waits on fd 3 for its assignment (the gateway's arguments and
 * data key) and serves as that instance — a wake skips Node's start-up and
 * module loading. It ends quietly when fd 3 closes with no assignment.
 */
import { parseGatewayConfig, UsageError } from '../gateway';
import type { GatewayConfig, GatewayOptions, RunningGateway } from '../gateway';
import { issuePairingCode, PAIRING_CODE_TTL_MS, readAssignmentFromFd } from '../security';
import type { CliIO } from './io';

/** How long a stop may take before the process ends anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;
export const STANDBY_FLAG = '--standby';
/** The standby's assignment arrives on this inherited pipe. */
export const STANDBY_FD = 3;

type StartGateway = (config: GatewayConfig, options?: GatewayOptions) => Promise<RunningGateway>;

/**
 * Listened for before the gateway starts: a stop that arrives while it
 * starts (after the runtime file is written, say) is a graceful stop too,
 * never the default action that ends the process mid-write.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

export async function run(args: string[], io: CliIO): Promise<number> {
  if (args[0] === STANDBY_FLAG) return runStandby(args.slice(1), io);
  const config = parseGatewayConfig(args);
  const signal = stopSignal();
  const { startGateway } = await import('../gateway/server');
  return serve(startGateway, config, {}, signal, io);
}

async function runStandby(rest: string[], io: CliIO): Promise<number> {
  // `--data DIR` only names whose standby this is (the manager finds its processes by it).
  if (rest.length !== 2 || rest[0] !== '--data') throw new UsageError('usage: autoclaw gateway --standby --data DIR (run by the manager)');
  const signal = stopSignal();
  const [{ startGateway }, { preloadProviders }, { rehearseStart }] = await Promise.all([import('../gateway/server'), import('../agent/providers/index'), import('./standby-rehearsal')]);
  // What a first turn loads (the provider SDKs) is loaded now, while nobody waits;
  // then a throwaway start and first client warm the rest (see standby-rehearsal.ts).
  await preloadProviders();
  await rehearseStart(startGateway, rest[1] ?? '.').catch((err: unknown) => {
    io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'standby rehearsal failed', err: err instanceof Error ? err.message : String(err) })}\n`);
  });
  const assignment = await Promise.race([readAssignmentFromFd(STANDBY_FD), signal.then(() => null)]);
  if (assignment === null) return 0;
  let args: unknown;
  try {
    args = JSON.parse(assignment.header);
  } catch {
    args = null;
  }
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string')) {
    assignment.key.fill(0);
    throw new UsageError('the standby assignment is not a list of gateway arguments');
  }
  const config = parseGatewayConfig(args);
  process.chdir(config.dataDir);
  return serve(startGateway, config, { dataKey: assignment.key }, signal, io);
}

async function serve(startGateway: StartGateway, config: GatewayConfig, options: GatewayOptions, signal: Promise<NodeJS.Signals>, io: CliIO): Promise<number> {
  const gateway = await startGateway(config, options);
  io.stdout.write(`${gateway.url}\n`);
  const paired = gateway.store.listDevices().some((d) => d.kind === 'client' && d.revokedAt === null);
  // A managed instance pairs devices with manager tickets; a code would only land in its log.
  if (!paired && config.managerKey === undefined) {
    const { code } = issuePairingCode(gateway.store, Date.now());
    io.stdout.write(
      `Pairing code: ${code}  (one-time, valid ${PAIRING_CODE_TTL_MS / 60_000} minutes; open the URL and enter it)\n`,
    );
  }

  const received = await signal;
  // A second signal while draining stops at once.
  const force = () => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  const log = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra })}\n`);
  log('info', 'stopping', { signal: received, graceMs: SHUTDOWN_GRACE_MS });
  // Whatever a tool is doing, the process ends within the grace time. A
  // thread stuck in a system call would hold even process.exit() (libuv
  // joins its pool at exit), so the last resort is SIGKILL: the store is
  // crash-safe, and skill processes end when their IPC channel closes.
  const deadline = setTimeout(() => {
    log('error', 'stop took longer than its grace time; ending the process', { graceMs: SHUTDOWN_GRACE_MS });
    process.kill(process.pid, 'SIGKILL');
  }, SHUTDOWN_GRACE_MS);
  await gateway.close();
  clearTimeout(deadline);
  process.off('SIGTERM', force);
  process.off('SIGINT', force);
  // Closed cleanly; a handle left behind by a tool must not keep the process up.
  setTimeout(() => process.exit(0), 1_000).unref();
  return 0;
}
