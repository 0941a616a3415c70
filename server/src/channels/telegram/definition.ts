/** Telegram as the registry knows it (no SDK here: grammy loads with the adapter). */
import type { ChannelDefinition } from '../types';

export const TELEGRAM: ChannelDefinition = {
  name: 'telegram',
  label: 'Telegram',
  required: ['telegram.botToken'],
  connection: ['telegram.botToken', 'telegram.apiRoot', 'telegram.webhookUrl'],
  // A long-poll round takes up to its timeout (25 s) plus the way there and back.
  livenessMs: 40_000,
  // With a webhook, Telegram calls /i/<id>/channels/telegram/webhook, which wakes a sleeping instance.
  sleepsWith: 'telegram.webhookUrl',
  load: async () => (await import('./adapter')).createTelegramAdapter,
};
