/**
 * Who may talk to the assistant through a channel. Per channel a DM policy
 * (`<channel>.dmPolicy`): `pairing` (default: an unknown sender gets a
 * one-time code the owner approves), `allowlist` (only `<channel>.allowFrom`)
 * or `open`. `allowFrom` and approved senders are always let in. In groups
 * the assistant answers only when addressed (mentioned or replied to), and
 * only to senders the DM policy lets in — strangers there are ignored (they
 * can pair in a DM).
 */
import { randomInt } from 'node:crypto';
import { DEFAULT_DM_POLICY, DmPolicy, PAIRING_CODE_ALPHABET, type ChannelName, type ChannelSettingKey } from '@autoclaw/shared';
import type { Store } from '../store';
import type { InboundMessage } from './types';

/** How long a pairing code can be approved. */
export const PAIRING_TTL_MS = 60 * 60 * 1000;

export type AccessDecision = 'allow' | 'pair' | 'ignore';

export function dmPolicyOf(value: string | null): DmPolicy {
  const parsed = DmPolicy.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_DM_POLICY;
}

export function allowListOf(value: string | null): Set<string> {
  return new Set((value ?? '').split(',').map((id) => id.trim()).filter((id) => id.length > 0));
}

export function newPairingCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  return code;
}

export interface AccessDeps {
  store: Pick<Store, 'isApprovedSender'>;
  setting(key: ChannelSettingKey): string | null;
}

export function decideAccess(deps: AccessDeps, channel: ChannelName, message: InboundMessage): AccessDecision {
  const group = message.conversation.kind === 'group';
  if (group && message.addressed !== true) return 'ignore';
  const policy = dmPolicyOf(deps.setting(`${channel}.dmPolicy` as ChannelSettingKey));
  const sender = message.sender.id;
  if (policy === 'open') return 'allow';
  if (allowListOf(deps.setting(`${channel}.allowFrom` as ChannelSettingKey)).has(sender)) return 'allow';
  if (deps.store.isApprovedSender(channel, sender)) return 'allow';
  if (group) return 'ignore';
  return policy === 'pairing' ? 'pair' : 'ignore';
}
