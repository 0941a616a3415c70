/**
 * What the store keeps for chat channels (see migration V5): state and its
 * history, conversations, inbound ids, the outbound queue, sent platform
 * messages, approved senders, pending pairings and per-channel values.
 */
import type { ApprovedSender, ChannelStateChange, ChannelState, Message, PendingPairing } from '@autoclaw/shared';

export interface ChannelRecord {
  name: string;
  enabled: boolean;
  state: ChannelState;
  since: number | null;
  lastInboundAt: number | null;
  lastError: string | null;
}

export interface InboundRecord {
  clientId: string;
  channel: string;
  platformId: string;
  sessionId: string;
  /** The platform message a reply should answer (groups), if any. */
  replyTo: string | null;
}

export type OutboundStatus = 'pending' | 'sent' | 'failed';

export interface NewOutbound {
  /** Unique: a second enqueue with the same key and version changes nothing. */
  key: string;
  channel: string;
  sessionId: string | null;
  kind: string;
  /** JSON text. */
  payload: string;
  /** What the payload shows; an enqueue with a new version re-arms a sent row. */
  version: string;
  nextAt?: number;
}

export interface OutboundRow extends Omit<NewOutbound, 'nextAt'> {
  id: number;
  status: OutboundStatus;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  createdAt: number;
}

export interface SentPart {
  part: number;
  platformId: string;
  textHash: string;
}

export interface NewPairing {
  channel: string;
  senderId: string;
  senderName: string;
  code: string;
  /** JSON of where to tell the sender they were approved. */
  route: string;
  expiresAt: number;
}

export interface ChannelStore {
  /* channels and their state */
  getChannel(name: string): ChannelRecord | null;
  listChannels(): ChannelRecord[];
  /** Sets the enabled flag (making the row on first use; a new row starts `disabled`). */
  setChannelEnabled(name: string, enabled: boolean): ChannelRecord;
  /** Records a state (and a history row) when state or error differ from the stored ones. */
  setChannelState(name: string, state: ChannelState, error: string | null): { record: ChannelRecord; changed: boolean };
  touchChannelInbound(name: string): void;
  /** Newest first. */
  channelHistory(name: string, limit: number): ChannelStateChange[];

  /* conversations and inbound messages */
  setConversation(sessionId: string, channel: string, route: string): void;
  getConversation(sessionId: string): { channel: string; route: string } | null;
  /** Remembers an inbound message's platform id (nothing written when the client id is known). */
  recordInbound(record: InboundRecord): void;
  getInbound(clientId: string): InboundRecord | null;
  /** Whether a message with this client id is stored (an inbound message seen before). */
  hasClientMessage(clientId: string): boolean;
  /** Channel turns an unclean stop cut off (interrupted without a provider error) and not retried yet. */
  channelTurnsToResume(): Message[];
  markInboundRetried(clientId: string): void;

  /* the outbound queue */
  /** Inserts, or re-arms a row whose version changed; false when the same key and version exist. */
  enqueueOutbound(row: NewOutbound): boolean;
  /** Pending rows of the channel due at `now`, oldest first. */
  dueOutbound(channel: string, now: number, limit: number): OutboundRow[];
  /** When the channel's next pending row is due (null when none). */
  nextOutboundAt(channel: string): number | null;
  markOutbound(id: number, patch: { status: OutboundStatus; attempts: number; nextAt: number; lastError: string | null }): void;
  getOutbound(key: string): OutboundRow | null;
  /**
   * Answers of channel turns that ended (since `since`) whose final delivery
   * is not queued in its current version: what a crash between the answer and
   * its queueing left behind.
   */
  undeliveredAnswers(since: number): Message[];
  /** Forgets sent/failed rows (and sent parts of gone messages) older than `before`. */
  pruneOutbound(before: number): number;
  sentParts(messageId: string): SentPart[];
  recordSentPart(messageId: string, channel: string, part: SentPart): void;

  /* access */
  approveSender(channel: string, senderId: string, senderName: string): ApprovedSender;
  revokeSender(channel: string, senderId: string): boolean;
  isApprovedSender(channel: string, senderId: string): boolean;
  listApprovedSenders(channel: string): ApprovedSender[];
  /** The sender's unexpired pending pairing, or the new one. */
  addPairing(pairing: NewPairing, now: number): { pairing: PendingPairing & { route: string }; created: boolean };
  listPairings(channel: string, now: number): PendingPairing[];
  /** Removes and returns the unexpired pairing with this code (null when none). */
  takePairing(channel: string, code: string, now: number): (PendingPairing & { route: string }) | null;

  /* small per-channel values (offsets, encrypted link state) */
  getChannelValue(channel: string, key: string): string | null;
  setChannelValue(channel: string, key: string, value: string | null): void;
}
