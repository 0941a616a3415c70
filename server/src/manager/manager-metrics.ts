/**
 * The manager's metrics (GET /metrics): instances by state and their
 * restarts, read from the database at scrape time (so every replica reports
 * the same cluster-wide figures: aggregate with max, not sum), whether this
 * replica leads, and the wakes this replica served with their duration.
 */
import { INSTANCE_STATES } from '@autoclaw/shared';
import { createMetricBook } from '../observability';
import type { Counter, Histogram, MetricBook } from '../observability';
import type { ManagerDb } from './db';

export interface ManagerMetrics {
  book: MetricBook;
  /** Sleeping instances woken by this replica, by outcome (`ok` | `failed`). */
  wakes: Counter;
  /** Seconds from a wake's start to the instance answering /readyz. */
  wakeSeconds: Histogram;
}

export function createManagerMetrics(deps: { db: ManagerDb; isLeader: () => boolean }): ManagerMetrics {
  const book = createMetricBook();
  const { db } = deps;
  book.gauge('autoclaw_manager_instances', 'Instances by state (cluster-wide, from the database).', async () => {
    const rows = await db.k.selectFrom('instances').select(['state', db.k.fn.countAll<number>().as('n')]).groupBy('state').execute();
    const counts = new Map(rows.map((r) => [r.state as string, Number(r.n)]));
    return INSTANCE_STATES.map((state) => ({ labels: { state }, value: counts.get(state) ?? 0 }));
  });
  book.gauge('autoclaw_manager_instance_restarts', 'Automatic restarts of every instance so far (cluster-wide, from the database).', async () => {
    const row = await db.k.selectFrom('instances').select(db.k.fn.sum<number | null>('restarts').as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  });
  book.gauge('autoclaw_manager_leader', '1 while this replica holds the leader lease.', () => (deps.isLeader() ? 1 : 0));
  const wakes = book.counter('autoclaw_manager_wakes_total', 'Sleeping instances woken by this replica, by outcome.');
  const wakeSeconds = book.histogram('autoclaw_manager_wake_duration_seconds', 'Time from a wake starting to the instance being ready.', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30]);
  return { book, wakes, wakeSeconds };
}
