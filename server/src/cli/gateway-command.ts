/** `autoclaw gateway`: runs a gateway in the foreground until SIGTERM/SIGINT. */
import { parseGatewayConfig } from '../gateway';
import { issuePairingCode, PAIRING_CODE_TTL_MS } from '../security';
import type { CliIO } from './io';

/** How long a stop may take before the process ends anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;

export async function run(args: string[], io: CliIO): Promise<number> {
  const config = parseGatewayConfig(args);
  // Listened for before the gateway starts: a stop that arrives while it
  // starts (after the runtime file is written, say) is a graceful stop too,
  // never the default action that ends the process mid-write.
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const { startGateway } = await import('../gateway/server');
  const gateway = await startGateway(config);
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
