/**
 * Chat channels (Telegram, Discord, Slack, Matrix, Mattermost, …): their
 * names, settings keys, states and the procedures of the Channels page and
 * the `autoclaw channels` command.
 */
import { z } from 'zod';

/** Every channel the gateway knows; a new channel appends its name here. */
export const CHANNEL_NAMES = ['telegram', 'discord', 'slack', 'matrix', 'mattermost', 'imessage', 'teams', 'signal', 'googlechat', 'whatsapp'] as const;
export const ChannelName = z.enum(CHANNEL_NAMES);
export type ChannelName = z.infer<typeof ChannelName>;

/**
 * The true state of a channel: `connected` only while the platform itself
 * proves the connection alive (a long-poll round, a heartbeat ack, a sync);
 * `reconnecting` while (re)connecting with backoff; `down` when it cannot
 * run without the owner (not configured, token refused).
 */
export const CHANNEL_STATES = ['connected', 'reconnecting', 'down', 'disabled'] as const;
export const ChannelState = z.enum(CHANNEL_STATES);
export type ChannelState = z.infer<typeof ChannelState>;

/** Who may talk to the assistant in a direct message. */
export const DM_POLICIES = ['pairing', 'allowlist', 'open'] as const;
export const DmPolicy = z.enum(DM_POLICIES);
export type DmPolicy = z.infer<typeof DmPolicy>;
export const DEFAULT_DM_POLICY: DmPolicy = 'pairing';

/** Settings of the channels (`autoclaw config set --data DIR KEY` and the Channels page). */
export const CHANNEL_SETTING_KEYS = [
  'telegram.botToken',
  'telegram.apiRoot',
  'telegram.webhookUrl',
  'telegram.dmPolicy',
  'telegram.allowFrom',
  'discord.token',
  'discord.apiRoot',
  'discord.dmPolicy',
  'discord.allowFrom',
  'slack.botToken',
  'slack.appToken',
  'slack.apiRoot',
  'slack.dmPolicy',
  'slack.allowFrom',
  'matrix.homeserverUrl',
  'matrix.accessToken',
  'matrix.dmPolicy',
  'matrix.allowFrom',
  'mattermost.url',
  'mattermost.token',
  'mattermost.dmPolicy',
  'mattermost.allowFrom',
  'imessage.url',
  'imessage.password',
  'imessage.webhookUrl',
  'imessage.mentionName',
  'imessage.dmPolicy',
  'imessage.allowFrom',
  'teams.appId',
  'teams.appPassword',
  'teams.openIdMetadataUrl',
  'teams.tokenUrl',
  'teams.dmPolicy',
  'teams.allowFrom',
  'signal.account',
  'signal.url',
  'signal.cliPath',
  'signal.dmPolicy',
  'signal.allowFrom',
  'googlechat.audience',
  'googlechat.serviceAccount',
  'googlechat.certsUrl',
  'googlechat.tokenUrl',
  'googlechat.apiRoot',
  'googlechat.dmPolicy',
  'googlechat.allowFrom',
  'whatsapp.url',
  'whatsapp.serverKey',
  'whatsapp.mediaCa',
  'whatsapp.dmPolicy',
  'whatsapp.allowFrom',
] as const;
export type ChannelSettingKey = (typeof CHANNEL_SETTING_KEYS)[number];
export const CHANNEL_SECRET_SETTINGS: readonly ChannelSettingKey[] = [
  'telegram.botToken',
  'discord.token',
  'slack.botToken',
  'slack.appToken',
  'matrix.accessToken',
  'mattermost.token',
  'imessage.password',
  'teams.appPassword',
  'googlechat.serviceAccount',
];

/**
 * Each channel's endpoint setting with the secrets that are sent to it: a
 * changed endpoint clears them, so a token entered for one server never
 * reaches another.
 */
export const CHANNEL_ENDPOINT_SECRETS: Readonly<Partial<Record<ChannelSettingKey, readonly ChannelSettingKey[]>>> = {
  'telegram.apiRoot': ['telegram.botToken'],
  'discord.apiRoot': ['discord.token'],
  'slack.apiRoot': ['slack.botToken', 'slack.appToken'],
  'matrix.homeserverUrl': ['matrix.accessToken'],
  'mattermost.url': ['mattermost.token'],
  'imessage.url': ['imessage.password'],
  'teams.tokenUrl': ['teams.appPassword'],
  // The metadata's keys decide which serviceUrl an activity may name: the app token goes there.
  'teams.openIdMetadataUrl': ['teams.appPassword'],
  'googlechat.tokenUrl': ['googlechat.serviceAccount'],
  // The key's access tokens go to the API root.
  'googlechat.apiRoot': ['googlechat.serviceAccount'],
};

export const ChannelStateChangeSchema = z.object({
  state: ChannelState,
  at: z.number(),
  /** Why (for `reconnecting` and `down`); null otherwise. */
  error: z.string().nullable(),
});
export type ChannelStateChange = z.infer<typeof ChannelStateChangeSchema>;

export const ChannelStatusSchema = z.object({
  name: ChannelName,
  enabled: z.boolean(),
  state: ChannelState,
  /** When the channel entered its state (null when it never ran). */
  since: z.number().nullable(),
  /** When the last message from the platform was stored. */
  lastInboundAt: z.number().nullable(),
  lastError: z.string().nullable(),
  /** Every required setting is present. */
  configured: z.boolean(),
  dmPolicy: DmPolicy,
  /** A pairing QR payload to show (channels that link by QR code); null when none is pending. */
  qr: z.string().nullable(),
  /** The account the channel is linked as on the platform (a number linked by QR code); null when it does not say. */
  account: z.string().nullable(),
});
export type ChannelStatus = z.infer<typeof ChannelStatusSchema>;

export const PendingPairingSchema = z.object({
  channel: ChannelName,
  code: z.string(),
  senderId: z.string(),
  senderName: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
});
export type PendingPairing = z.infer<typeof PendingPairingSchema>;

export const ApprovedSenderSchema = z.object({
  channel: ChannelName,
  senderId: z.string(),
  senderName: z.string(),
  approvedAt: z.number(),
});
export type ApprovedSender = z.infer<typeof ApprovedSenderSchema>;

export const ChannelDetailSchema = z.object({
  status: ChannelStatusSchema,
  /** Newest first. */
  history: z.array(ChannelStateChangeSchema),
  pending: z.array(PendingPairingSchema),
  approved: z.array(ApprovedSenderSchema),
});
export type ChannelDetail = z.infer<typeof ChannelDetailSchema>;

/** Pairing codes a stranger gets: 8 characters without look-alikes (no 0/O, 1/I/L). */
export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const ChannelPairingCode = z
  .string()
  .trim()
  .transform((s) => s.toUpperCase().replace(/[\s-]/g, ''))
  .pipe(z.string().regex(/^[A-HJKMNP-Z2-9]{8}$/, 'a pairing code is 8 letters and digits'));

const SenderId = z.string().min(1).max(200);

export const ChannelInputs = {
  get: z.object({ name: ChannelName }).strict(),
  setEnabled: z.object({ name: ChannelName, enabled: z.boolean() }).strict(),
  approve: z.object({ channel: ChannelName, code: ChannelPairingCode }).strict(),
  deny: z.object({ channel: ChannelName, code: ChannelPairingCode }).strict(),
  revoke: z.object({ channel: ChannelName, senderId: SenderId }).strict(),
} as const;

/** The `channels.events` stream: a channel's status changed, or its pairings did. */
export const ChannelEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: ChannelStatusSchema }),
  z.object({ type: z.literal('senders'), channel: ChannelName }),
]);
export type ChannelEvent = z.infer<typeof ChannelEventSchema>;
