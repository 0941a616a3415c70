/**
 * The entry of `autoclaw chat` alone (server/dist/chat.mjs): one file with
 * only what a chat turn needs — no zod, no server, no other command — so a
 * one-off message starts in little more than bare Node's time. The bin
 * script picks it for `autoclaw chat`; everything else goes through main.ts.
 */
import * as chat from './chat-command';
import type { CliIO } from './io';
import { processIO } from './io';
import { runCommand } from './run-command';

export function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  return runCommand('chat', () => Promise.resolve(chat), argv.slice(1), io);
}
