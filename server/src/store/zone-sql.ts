/**
 * Local days in SQL. SQLite knows no time zones, so the zone's offsets over
 * the queried range are found in TypeScript (shared/zone-days) and written
 * into the statement as a CASE over the constant-offset stretches: the local
 * day of a row is (created_at + offset) / 24 h, exact across DST changes.
 */
import { AppError, DAY_MS, zoneClock, type ZoneClock } from '@autoclaw/shared';

/** One clock per zone, made on first use (a clock caches what it learned about its zone). */
export function createZoneClocks(): (timeZone: string) => ZoneClock {
  const clocks = new Map<string, ZoneClock>();
  return (timeZone) => {
    let clock = clocks.get(timeZone);
    if (!clock) {
      try {
        clock = zoneClock(timeZone);
      } catch {
        throw new AppError('BAD_REQUEST', `unknown time zone ${JSON.stringify(timeZone.slice(0, 64))}`);
      }
      clocks.set(timeZone, clock);
    }
    return clock;
  };
}

function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new AppError('INTERNAL', `not an integer: ${value}`);
  return String(value);
}

/** An SQL expression for the local day number of `column`, valid for rows with `from <= column < to`. */
export function localDaySql(clock: ZoneClock, from: number, to: number, column = 'created_at'): string {
  const segments = clock.segments(from, Math.max(to, from + 1));
  const last = segments[segments.length - 1];
  if (!last) throw new AppError('INTERNAL', 'no zone segments');
  if (segments.length === 1) return `((${column} + ${int(last.offsetMs)}) / ${DAY_MS})`;
  const arms = segments
    .slice(0, -1)
    .map((s) => `WHEN ${column} < ${int(s.end)} THEN ${int(s.offsetMs)}`)
    .join(' ');
  return `((${column} + CASE ${arms} ELSE ${int(last.offsetMs)} END) / ${DAY_MS})`;
}
