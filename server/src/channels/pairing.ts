/**
 * Approving a pending pairing: the sender becomes an approved sender of the
 * channel and is told so (through the outbound queue, so a CLI approval while
 * no gateway runs is delivered when one starts).
 */
import { AppError, type ApprovedSender, type ChannelName, type GatewayAuditAction } from '@autoclaw/shared';
import type { Store } from '../store';
import type { ChannelOutbox } from './outbox';

/** One channel change in the gateway's audit log (actor null: the local CLI on the data directory). */
export function auditChannel(
  store: Store,
  actor: string | null,
  action: Extract<GatewayAuditAction, `channels.${string}`>,
  target: string,
  detail: string | null = null,
): void {
  store.appendAudit({ deviceId: actor, action, target, detail });
}

export function approvePairing(store: Store, outbox: ChannelOutbox, channel: ChannelName, code: string, now: number, actor: string | null = null): ApprovedSender {
  const pairing = store.takePairing(channel, code, now);
  if (!pairing) throw new AppError('NOT_FOUND', `no pending pairing ${code} on ${channel} (codes expire after an hour)`);
  const sender = store.approveSender(channel, pairing.senderId, pairing.senderName);
  auditChannel(store, actor, 'channels.approve', `${channel}:${sender.senderId}`, sender.senderName || null);
  outbox.enqueueText(channel, null, `approved:${channel}:${pairing.senderId}:${pairing.code}`, pairing.route, {
    text: 'You are approved: send your message again and the assistant will answer.',
  });
  return sender;
}
