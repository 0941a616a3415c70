/**
 * Runs one command with the CLI's rules: `--help` prints its usage, a bad
 * flag exits 2 with the usage, an AppError (or an error the gateway answered
 * with) exits 1 with its message. Shared by the `autoclaw` entry and the
 * `autoclaw chat` entry (its own small bundle, see scripts/build.mjs).
 */
import { AppError } from '@autoclaw/shared';
import { UsageError } from '../gateway';
import type { CliIO, Command } from './io';
import { USAGE } from './usage';
import type { CommandName } from './usage';

export async function runCommand(name: CommandName, load: () => Promise<Command>, args: string[], io: CliIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(USAGE[name]);
    return 0;
  }
  try {
    const command = await load();
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`autoclaw ${name}: ${err.message}\n\n${USAGE[name]}`);
      return 2;
    }
    // AppErrors from this process, and errors the gateway answered with (TRPCClientError).
    if (AppError.is(err) || (err instanceof Error && err.name === 'TRPCClientError')) {
      io.stderr.write(`autoclaw ${name}: ${(err as Error).message}\n`);
      return 1;
    }
    io.stderr.write(`autoclaw ${name}: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
