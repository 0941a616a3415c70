/**
 * Which backups to delete. Scheduled backups: the newest of each of the last
 * `daily` days that have one, and the newest of each of the last `weekly`
 * weeks (UTC, weeks from Monday). Pre-update backups: the newest
 * `preUpdate`. Manual backups are kept until deleted by hand.
 */
import type { Backup } from '@autoclaw/shared';

export interface Retention {
  daily: number;
  weekly: number;
  preUpdate: number;
}

export const DEFAULT_RETENTION: Retention = { daily: 7, weekly: 4, preUpdate: 3 };

const DAY = 86_400_000;
const dayOf = (t: number) => Math.floor(t / DAY);
/** 1970-01-01 was a Thursday: shift so weeks start on Monday. */
const weekOf = (t: number) => Math.floor((dayOf(t) + 3) / 7);

function newestPer(backups: Backup[], bucket: (t: number) => number, count: number): Set<string> {
  const kept = new Set<string>();
  const seen = new Set<number>();
  for (const b of backups) {
    const key = bucket(b.createdAt);
    if (seen.has(key)) continue;
    if (seen.size >= count) break;
    seen.add(key);
    kept.add(b.id);
  }
  return kept;
}

/** The ids to delete. */
export function pruneList(all: Backup[], r: Retention): string[] {
  const newestFirst = [...all].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  const scheduled = newestFirst.filter((b) => b.kind === 'scheduled');
  const keep = new Set([...newestPer(scheduled, dayOf, r.daily), ...newestPer(scheduled, weekOf, r.weekly)]);
  for (const b of newestFirst.filter((x) => x.kind === 'pre-update').slice(0, r.preUpdate)) keep.add(b.id);
  return newestFirst.filter((b) => b.kind !== 'manual' && !keep.has(b.id)).map((b) => b.id);
}
