/** `autoclaw releases add|list` (see updates-command.ts). */
import type { CliIO } from './io';

export async function run(args: string[], io: CliIO): Promise<number> {
  const { runReleases } = await import('./updates-command');
  return runReleases(args, io);
}
