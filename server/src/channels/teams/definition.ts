/** Microsoft Teams through the Bot Framework as the registry knows it (botbuilder's parts load when an activity first needs them). */
import type { ChannelDefinition } from '../types';

export const TEAMS: ChannelDefinition = {
  name: 'teams',
  label: 'Microsoft Teams',
  required: ['teams.appId', 'teams.appPassword'],
  connection: ['teams.appId', 'teams.appPassword', 'teams.openIdMetadataUrl', 'teams.tokenUrl'],
  // The Bot Framework's OpenID metadata is fetched every third of this; an answer proves the way in.
  livenessMs: 300_000,
  load: async () => (await import('./adapter')).createTeamsAdapter,
};
