/** Signal as the registry knows it (the daemon is spawned, and its client loaded, only when the channel runs). */
import type { ChannelDefinition } from '../types';

export const SIGNAL: ChannelDefinition = {
  name: 'signal',
  label: 'Signal',
  // signal-cli runs from PATH by default, and an unlinked gateway links by QR code.
  required: [],
  connection: ['signal.account', 'signal.url', 'signal.cliPath'],
  // The event stream sends a keep-alive every 15 s.
  livenessMs: 40_000,
  load: async () => (await import('./adapter')).createSignalAdapter,
};
