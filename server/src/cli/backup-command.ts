/** `autoclaw backup create|list|verify|restore` (see updates-command.ts). */
import type { CliIO } from './io';

export async function run(args: string[], io: CliIO): Promise<number> {
  const { runBackup } = await import('./updates-command');
  return runBackup(args, io);
}
