/**
 * Deterministic ids for what channels store. The client id of an inbound
 * message is derived from the channel and the platform's message id, so a
 * redelivery (after a reconnect, or after the gateway restarted) is the same
 * client id and the chat service's dedupe makes it one turn.
 */
import { createHash } from 'node:crypto';

/** Prefix of the client ids channels make: the answers to these turns go back to the platform. */
export const CHANNEL_CLIENT_ID_PREFIX = 'ch_';

export function channelClientId(channel: string, platformId: string): string {
  const digest = createHash('sha256').update(`${channel}\u0000${platformId}`).digest('base64url');
  return `${CHANNEL_CLIENT_ID_PREFIX}${digest.slice(0, 32)}`;
}

export function isChannelClientId(clientId: string | null): boolean {
  return clientId !== null && clientId.startsWith(CHANNEL_CLIENT_ID_PREFIX);
}

/** A short stable hash of a text (what a sent platform message shows now). */
export function textHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** A session name for a platform conversation: `<channel>:<kind>:<id>[:<thread>]`, hashed when too long. */
export function sessionNameOf(channel: string, kind: string, id: string, thread?: string): string {
  const name = `${channel}:${kind}:${id}${thread ? `:${thread}` : ''}`;
  if (name.length <= 80) return name;
  const digest = createHash('sha256').update(name).digest('base64url').slice(0, 24);
  return `${channel}:${kind}:${digest}`;
}
