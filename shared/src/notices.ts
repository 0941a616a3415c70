/**
 * Notices: what the gateway tells the user about itself, apart from chat —
 * a budget's soft line crossed, a channel down or back, a skill refused, an
 * update rolled back. Stored (a client that was away sees them later),
 * streamed live, shown as tray/browser notifications and in the app's list.
 */
import { z } from 'zod';

export const NOTICE_KINDS = ['budget', 'channel', 'skill', 'update', 'backup', 'system'] as const;
export const NoticeKind = z.enum(NOTICE_KINDS);
export type NoticeKind = z.infer<typeof NoticeKind>;

export const NoticeLevel = z.enum(['info', 'warning', 'error']);
export type NoticeLevel = z.infer<typeof NoticeLevel>;

export const NoticeSchema = z.object({
  id: z.string(),
  /** Increasing; the resume point of `notices.events`. */
  seq: z.number().int(),
  kind: NoticeKind,
  level: NoticeLevel,
  title: z.string(),
  body: z.string(),
  createdAt: z.number(),
  readAt: z.number().nullable(),
});
export type Notice = z.infer<typeof NoticeSchema>;

/** What a part of the gateway publishes. */
export interface NoticeInput {
  kind: NoticeKind;
  level: NoticeLevel;
  title: string;
  body: string;
  /**
   * At most one notice per key, ever (e.g. `budget:soft:daily:2026-12-06` for
   * one warning per period). Without a key every publish is a new notice.
   */
  key?: string;
}

/** Where parts of the gateway (budgets, channels, skills) send notices; injected, never imported. */
export interface NoticeSink {
  /** Stores and broadcasts the notice; returns null when its key was used before. */
  publish(input: NoticeInput): Notice | null;
}

export const NOTICE_TITLE_CHARS = 120;
export const NOTICE_BODY_CHARS = 1_000;

export const NoticeInputs = {
  list: z.object({ limit: z.number().int().min(1).max(200).optional(), unreadOnly: z.boolean().optional() }).strict(),
  markRead: z.union([
    z.object({ ids: z.array(z.string().min(1).max(64)).min(1).max(200) }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ]),
  /** `lastEventId` is the seq of the last notice the client saw (as text): newer ones are replayed first. */
  events: z.object({ lastEventId: z.string().regex(/^\d{1,15}$/).nullish() }).strict(),
} as const;

/** The `notices.events` stream: a new notice, or the unread count after notices were marked read. */
export const NoticeEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('notice'), notice: NoticeSchema }),
  z.object({ type: z.literal('unread'), unread: z.number().int() }),
]);
export type NoticeEvent = z.infer<typeof NoticeEventSchema>;

export const NoticeListSchema = z.object({ notices: z.array(NoticeSchema), unread: z.number().int() });
export type NoticeList = z.infer<typeof NoticeListSchema>;
