/** Discord as the registry knows it (no SDK here: discord.js loads with the adapter). */
import type { ChannelDefinition } from '../types';

export const DISCORD: ChannelDefinition = {
  name: 'discord',
  label: 'Discord',
  required: ['discord.token'],
  connection: ['discord.token', 'discord.apiRoot'],
  // Until HELLO tells the heartbeat interval (Discord's is about 41 s): three of them and a bit.
  livenessMs: 130_000,
  load: async () => (await import('./adapter')).createDiscordAdapter,
};
