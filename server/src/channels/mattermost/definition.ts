/** Mattermost as the registry knows it (no SDK here: @mattermost/client loads with the adapter). */
import type { ChannelDefinition } from '../types';

export const MATTERMOST: ChannelDefinition = {
  name: 'mattermost',
  label: 'Mattermost',
  required: ['mattermost.url', 'mattermost.token'],
  connection: ['mattermost.url', 'mattermost.token'],
  // The socket is pinged every quarter of this; an answered ping proves it.
  livenessMs: 60_000,
  load: async () => (await import('./adapter')).createMattermostAdapter,
};
