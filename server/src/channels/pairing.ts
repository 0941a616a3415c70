/**
 * Approving a pending pairing: the sender becomes an approved sender of the
 * channel and is told so (through the outbound queue, so a CLI approval while
 * no gateway runs is delivered when one starts).
 */
import { AppError, type ApprovedSender, type ChannelName } from '@autoclaw/shared';
import type { Store } from '../store';
import type { ChannelOutbox } from './outbox';

export function approvePairing(store: Store, outbox: ChannelOutbox, channel: ChannelName, code: string, now: number): ApprovedSender {
  const pairing = store.takePairing(channel, code, now);
  if (!pairing) throw new AppError('NOT_FOUND', `no pending pairing ${code} on ${channel} (codes expire after an hour)`);
  const sender = store.approveSender(channel, pairing.senderId, pairing.senderName);
  outbox.enqueueText(channel, null, `approved:${channel}:${pairing.senderId}:${pairing.code}`, pairing.route, {
    text: 'You are approved: send your message again and the assistant will answer.',
  });
  return sender;
}
