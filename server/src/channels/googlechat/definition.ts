/** Google Chat as an HTTP endpoint app, as the registry knows it (google-auth-library and @googleapis/chat load on first use). */
import type { ChannelDefinition } from '../types';

export const GOOGLE_CHAT: ChannelDefinition = {
  name: 'googlechat',
  label: 'Google Chat',
  required: ['googlechat.audience', 'googlechat.serviceAccount'],
  connection: ['googlechat.audience', 'googlechat.serviceAccount', 'googlechat.certsUrl', 'googlechat.tokenUrl', 'googlechat.apiRoot'],
  // Google's signing certificates are fetched every third of this; an answer proves the way in.
  livenessMs: 300_000,
  load: async () => (await import('./adapter')).createGoogleChatAdapter,
};
