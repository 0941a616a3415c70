/** `autoclaw manager`: runs the manager in the foreground until SIGTERM/SIGINT. */
import { parseManagerConfig, startManager } from '../manager';
import type { CliIO } from './io';

export async function run(args: string[], io: CliIO): Promise<number> {
  const config = parseManagerConfig(args);
  const manager = await startManager(config);
  io.stdout.write(`${manager.url}\n`);
  if (manager.setupLink) {
    io.stdout.write(`No account yet. Open this one-time link to create the owner account (valid 60 minutes):\n${manager.setupLink}\n`);
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // A second signal while draining stops at once.
  const force = () => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'stopping', signal })}\n`);
  await manager.close();
  process.off('SIGTERM', force);
  process.off('SIGINT', force);
  return 0;
}
