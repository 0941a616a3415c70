/** Slack as the registry knows it (no SDK here: @slack/bolt loads with the adapter). */
import type { ChannelDefinition } from '../types';

export const SLACK: ChannelDefinition = {
  name: 'slack',
  label: 'Slack',
  required: ['slack.botToken', 'slack.appToken'],
  connection: ['slack.botToken', 'slack.appToken', 'slack.apiRoot'],
  // The Socket Mode client pings every few seconds; its pongs prove the socket.
  livenessMs: 20_000,
  load: async () => (await import('./adapter')).createSlackAdapter,
};
