/** Every built-in channel, as light definitions: a channel's SDK loads only when it runs. */
import { DISCORD } from './discord/definition';
import { GOOGLE_CHAT } from './googlechat/definition';
import { IMESSAGE } from './imessage/definition';
import { MATRIX } from './matrix/definition';
import { MATTERMOST } from './mattermost/definition';
import { SIGNAL } from './signal/definition';
import { SLACK } from './slack/definition';
import { TEAMS } from './teams/definition';
import { TELEGRAM } from './telegram/definition';
import type { ChannelDefinition } from './types';
import { WHATSAPP } from './whatsapp/definition';

export const CHANNEL_DEFINITIONS: readonly ChannelDefinition[] = [TELEGRAM, DISCORD, SLACK, MATRIX, MATTERMOST, IMESSAGE, TEAMS, SIGNAL, GOOGLE_CHAT, WHATSAPP];
