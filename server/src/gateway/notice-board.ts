/**
 * The gateway's notice board: parts publish notices (budgets, channels,
 * skills) through the NoticeSink they are given; the board stores each one
 * and streams it to every connected client. A client that reconnects with the
 * seq of the last notice it saw gets the ones it missed first.
 */
import { createBroadcast, type Notice, type NoticeEvent, type NoticeInput, type NoticeList, type NoticeSink } from '@autoclaw/shared';
import type { Store } from '../store';
import type { Logger } from './logger';

export interface NoticeBoard extends NoticeSink {
  list(opts: { limit: number; unreadOnly?: boolean }): NoticeList;
  /** Marks notices read; every client hears the new unread count. */
  markRead(ids: readonly string[] | 'all'): { unread: number };
  /** Missed notices after `lastSeq` (when given), then live events, until `signal` aborts. */
  events(lastSeq: number | null, signal: AbortSignal): AsyncIterable<{ seq: number; event: NoticeEvent }>;
  /** Ends every stream. */
  close(): void;
}

const REPLAY_PAGE = 200;

export function createNoticeBoard(deps: { store: Store; logger: Logger }): NoticeBoard {
  const { store, logger } = deps;
  const live = createBroadcast<{ seq: number; event: NoticeEvent }>();
  let lastSeq = store.listNotices({ limit: 1 })[0]?.seq ?? 0;

  return {
    publish(input: NoticeInput): Notice | null {
      const notice = store.addNotice(input);
      if (!notice) return null;
      lastSeq = Math.max(lastSeq, notice.seq);
      logger.info('notice', { kind: notice.kind, level: notice.level, title: notice.title });
      live.publish({ seq: notice.seq, event: { type: 'notice', notice } });
      return notice;
    },

    list({ limit, unreadOnly }) {
      return { notices: store.listNotices({ limit, ...(unreadOnly === undefined ? {} : { unreadOnly }) }), unread: store.unreadNotices() };
    },

    markRead(ids) {
      store.markNoticesRead(ids);
      const unread = store.unreadNotices();
      live.publish({ seq: lastSeq, event: { type: 'unread', unread } });
      return { unread };
    },

    async *events(since, signal) {
      // Listen first, then replay from the store: a notice published in
      // between is in the buffer and is skipped if the replay had it.
      const subscription = live.subscribe(signal);
      try {
        let seen = since ?? 0;
        if (since !== null) {
          for (;;) {
            const page = store.noticesAfter(seen, REPLAY_PAGE);
            for (const notice of page) {
              seen = notice.seq;
              yield { seq: notice.seq, event: { type: 'notice', notice } };
            }
            if (page.length < REPLAY_PAGE) break;
          }
        }
        for await (const item of subscription) {
          if (item.event.type === 'notice' && item.seq <= seen) continue;
          if (item.event.type === 'notice') seen = item.seq;
          yield item;
        }
      } finally {
        subscription.close();
      }
    },

    close() {
      live.close();
    },
  };
}
