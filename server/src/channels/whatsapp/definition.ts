/** WhatsApp as the registry knows it (baileys is loaded only when the channel runs). */
import type { ChannelDefinition } from '../types';

export const WHATSAPP: ChannelDefinition = {
  name: 'whatsapp',
  label: 'WhatsApp',
  // An unlinked gateway links by QR code; the server is WhatsApp's unless set.
  required: [],
  connection: ['whatsapp.url', 'whatsapp.serverKey', 'whatsapp.mediaCa'],
  // baileys pings the server every 15 s at this limit.
  livenessMs: 45_000,
  load: async () => (await import('./adapter')).createWhatsAppAdapter,
};
