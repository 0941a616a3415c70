/** What the Channels page says about each platform: set-up steps and the settings it asks for. */
import type { ChannelName, SettingKey } from '@autoclaw/shared';

export interface ChannelField {
  key: SettingKey;
  label: string;
  secret?: boolean;
  placeholder?: string;
  /** Shown under "Advanced" (endpoints most people never change). */
  advanced?: boolean;
  /** Plain text, not a URL (an id, a name, a number). */
  text?: boolean;
}

export interface ChannelGuide {
  label: string;
  steps: string[];
  fields: ChannelField[];
}

export const CHANNEL_GUIDES: Record<ChannelName, ChannelGuide> = {
  telegram: {
    label: 'Telegram',
    steps: [
      'In Telegram, open @BotFather and send /newbot.',
      'Choose a name, then a username that ends in "bot".',
      'BotFather answers with a token like 123456:ABC-DEF… — paste it below as the bot token.',
      'Enable the channel and send your bot a message. Anyone else gets a pairing code you approve here.',
      'In a group, add the bot and mention it (@yourbot) or reply to it.',
    ],
    fields: [
      { key: 'telegram.botToken', label: 'Bot token', secret: true },
      { key: 'telegram.apiRoot', label: 'Bot API root', placeholder: 'https://api.telegram.org', advanced: true },
      { key: 'telegram.webhookUrl', label: 'Webhook base URL (instead of polling)', placeholder: 'https://your-gateway.example', advanced: true },
    ],
  },
  discord: {
    label: 'Discord',
    steps: [
      'Open the Discord Developer Portal, make a New Application and open its Bot page.',
      'Under Privileged Gateway Intents, turn on Message Content Intent.',
      'Reset the token, copy it and paste it below as the bot token.',
      'Under OAuth2 → URL Generator pick the "bot" scope with Send Messages, Read Message History and Attach Files; open the link to add the bot to your server.',
      'Enable the channel, then DM the bot or mention it in a channel.',
    ],
    fields: [
      { key: 'discord.token', label: 'Bot token', secret: true },
      { key: 'discord.apiRoot', label: 'REST API root', placeholder: 'https://discord.com/api', advanced: true },
    ],
  },
  slack: {
    label: 'Slack',
    steps: [
      'Create an app at api.slack.com/apps (from scratch) in your workspace.',
      'Turn on Socket Mode and make an app-level token with connections:write (it starts with xapp-).',
      'Under OAuth & Permissions add the bot scopes chat:write, im:history, app_mentions:read, channels:history, files:read and files:write; install the app and copy the Bot User OAuth Token (xoxb-…).',
      'Under Event Subscriptions subscribe the bot to message.im and app_mention; under Interactivity, turn it on (for approval buttons).',
      'Paste both tokens below, enable the channel, and DM the app or mention it.',
    ],
    fields: [
      { key: 'slack.botToken', label: 'Bot token (xoxb-…)', secret: true },
      { key: 'slack.appToken', label: 'App-level token (xapp-…)', secret: true },
      { key: 'slack.apiRoot', label: 'Web API root', placeholder: 'https://slack.com/api', advanced: true },
    ],
  },
  matrix: {
    label: 'Matrix',
    steps: [
      'Make an account for the assistant on your homeserver.',
      'Sign in with it once and copy its access token (Element: Settings → Help & About → Access Token).',
      'Enter the homeserver URL and paste the token below.',
      'Enable the channel, then invite the account to a direct chat or a room (mention it in rooms). Encrypted rooms are not supported yet.',
    ],
    fields: [
      { key: 'matrix.homeserverUrl', label: 'Homeserver URL', placeholder: 'https://matrix.example.org' },
      { key: 'matrix.accessToken', label: 'Access token', secret: true },
    ],
  },
  mattermost: {
    label: 'Mattermost',
    steps: [
      'In the System Console, enable bot account creation (Integrations → Bot Accounts).',
      'Under Integrations → Bot Accounts, add a bot and copy its access token.',
      'Enter your Mattermost server URL and paste the token below.',
      'Enable the channel, then DM the bot or mention it in a channel.',
    ],
    fields: [
      { key: 'mattermost.url', label: 'Server URL', placeholder: 'https://mattermost.example.com' },
      { key: 'mattermost.token', label: 'Bot access token', secret: true },
    ],
  },
  imessage: {
    label: 'iMessage',
    steps: [
      'On a Mac signed in to iMessage, install the BlueBubbles server and finish its set-up (Full Disk Access, a server password).',
      'Make the server reachable from this gateway (its Dynamic DNS, Cloudflare or ngrok URL, or the Mac\'s address on your network or Tailnet).',
      'Enter the server URL and password below.',
      'Optional: the gateway URL as the Mac reaches it, for instant delivery by webhook (without it, new messages are fetched every few seconds).',
      'Enable the channel and text the Mac\'s iMessage address. In a group, name the assistant (the mention name below) to ask it something.',
    ],
    fields: [
      { key: 'imessage.url', label: 'BlueBubbles server URL', placeholder: 'https://my-mac.example.net' },
      { key: 'imessage.password', label: 'Server password', secret: true },
      { key: 'imessage.webhookUrl', label: 'Gateway URL for webhooks', placeholder: 'https://your-gateway.example', advanced: true },
      { key: 'imessage.mentionName', text: true, label: 'Name that addresses it in groups', placeholder: 'Claw', advanced: true },
    ],
  },
  teams: {
    label: 'Microsoft Teams',
    steps: [
      'In the Azure portal create an Azure Bot (single tenant or multi-tenant) and note its Microsoft App ID.',
      'Under Certificates & secrets of its app registration, add a client secret and copy its value (the app password).',
      'Set the bot\'s messaging endpoint to <your gateway URL>/channels/teams/messages (the gateway must be reachable over HTTPS, e.g. through a tunnel).',
      'Under Channels, add Microsoft Teams; then add the bot to Teams (Developer Portal app package with the bot id).',
      'Enter the app id and password below and enable the channel. DM the bot, or @mention it in a channel or group chat.',
    ],
    fields: [
      { key: 'teams.appId', text: true, label: 'Microsoft App ID', placeholder: '00000000-0000-0000-0000-000000000000' },
      { key: 'teams.appPassword', label: 'App password (client secret)', secret: true },
      { key: 'teams.openIdMetadataUrl', label: 'Bot Framework OpenID metadata URL', placeholder: 'https://login.botframework.com/v1/.well-known/openidconfiguration', advanced: true },
      { key: 'teams.tokenUrl', label: 'Token endpoint', placeholder: 'https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token', advanced: true },
    ],
  },
  signal: {
    label: 'Signal',
    steps: [
      'Install signal-cli on the gateway machine (or run its daemon elsewhere: signal-cli daemon --http=HOST:PORT, and enter that URL below).',
      'To use a number already registered or linked in signal-cli, enter it below. Otherwise leave it empty: a QR code appears here when you enable the channel.',
      'On your phone open Signal → Settings → Linked devices → Link new device, and scan the QR code.',
      'Then message that Signal account. Anyone else gets a pairing code you approve here; in groups, mention it.',
    ],
    fields: [
      { key: 'signal.account', label: 'Account number (optional)', placeholder: '+15551234567' },
      { key: 'signal.cliPath', label: 'signal-cli command', placeholder: 'signal-cli', advanced: true },
      { key: 'signal.url', label: 'Remote daemon URL (instead of running signal-cli here)', placeholder: 'http://127.0.0.1:8080', advanced: true },
    ],
  },
  googlechat: {
    label: 'Google Chat',
    steps: [
      'In the Google Cloud console, in a project of your Workspace, enable the Google Chat API.',
      'Make a service account and download a JSON key for it; paste the whole file below.',
      'Under the Chat API\'s Configuration, name the app, choose "HTTP endpoint URL" and enter <your gateway URL>/channels/googlechat/events (reachable over HTTPS).',
      'Under "Authentication audience" keep "Project number" and enter that number below (or choose "HTTP endpoint URL" and enter the URL itself).',
      'Enable the channel, then message the app directly or @mention it in a space.',
    ],
    fields: [
      { key: 'googlechat.audience', text: true, label: 'Project number (or endpoint URL)', placeholder: '123456789012' },
      { key: 'googlechat.serviceAccount', label: 'Service account JSON key', secret: true },
      { key: 'googlechat.certsUrl', label: 'Google certificates URL', placeholder: 'https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com', advanced: true },
      { key: 'googlechat.tokenUrl', label: 'Token endpoint', placeholder: 'https://oauth2.googleapis.com/token', advanced: true },
      { key: 'googlechat.apiRoot', label: 'Chat API root', placeholder: 'https://chat.googleapis.com/', advanced: true },
    ],
  },
  whatsapp: {
    label: 'WhatsApp',
    steps: [
      'Enable the channel: a QR code appears here (this gateway becomes a linked device of your WhatsApp account, like WhatsApp Web).',
      'On your phone open WhatsApp → Settings → Linked devices → Link a device, and scan the QR code. The link is kept (encrypted) and survives restarts.',
      'Then message that WhatsApp number from another phone. Anyone else gets a pairing code you approve here; in groups, mention the number.',
      'If the phone removes the device, the channel shows "re-link needed": a new QR code appears here.',
    ],
    fields: [
      { key: 'whatsapp.url', label: 'WhatsApp Web socket URL', placeholder: 'wss://web.whatsapp.com/ws/chat', advanced: true },
      { key: 'whatsapp.serverKey', label: "Server's root certificate key (base64; only for a server other than WhatsApp's)", advanced: true, text: true },
      { key: 'whatsapp.mediaCa', label: "Media hosts' CA certificate (PEM; only for a server other than WhatsApp's)", advanced: true, text: true },
    ],
  },
};
