/**
 * The `autoclaw` command. Each command lives in its own module, loaded only
 * when run, so `autoclaw chat` never loads the gateway's server code.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import type { CliIO, Command } from './io';
import { processIO } from './io';
import { runCommand } from './run-command';
import { MAIN_USAGE } from './usage';
import type { CommandName } from './usage';

const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  gateway: () => import('./gateway-command'),
  pair: () => import('./pair-command'),
  chat: () => import('./chat-command'),
  history: () => import('./history-command'),
  devices: () => import('./devices-command'),
  config: () => import('./config-command'),
  manager: () => import('./manager-command'),
  users: () => import('./users-command'),
  audit: () => import('./audit-command'),
  instances: () => import('./instances-command'),
  skills: () => import('./skills-command'),
  usage: () => import('./usage-command'),
  budget: () => import('./budget-command'),
  releases: () => import('./releases-command'),
  backup: () => import('./backup-command'),
  channels: () => import('./channels-command'),
  volume: () => import('./volume-command'),
};

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(MAIN_USAGE);
    return 0;
  }
  if (name === undefined || !isCommand(name)) {
    if (name !== undefined) io.stderr.write(`autoclaw: unknown command "${name.slice(0, 40)}"\n\n`);
    io.stderr.write(MAIN_USAGE);
    return 2;
  }
  return runCommand(name, COMMANDS[name], args, io);
}
