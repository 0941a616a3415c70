/** iMessage through a BlueBubbles server on the user's Mac (its REST API; no SDK, the adapter loads when it runs). */
import type { ChannelDefinition } from '../types';

export const IMESSAGE: ChannelDefinition = {
  name: 'imessage',
  label: 'iMessage',
  required: ['imessage.url', 'imessage.password'],
  connection: ['imessage.url', 'imessage.password', 'imessage.webhookUrl'],
  // The server is pinged every third of this; an answered ping proves it.
  livenessMs: 90_000,
  load: async () => (await import('./adapter')).createIMessageAdapter,
};
