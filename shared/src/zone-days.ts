/**
 * Local calendar days in an IANA time zone, exactly, across daylight-saving
 * changes. A moment belongs to the date the zone's wall clock showed then:
 * its *local day* is floor((t + offset(t)) / 24 h), counted from 1970-01-01.
 * Offsets come from Intl (the ICU time-zone data of the runtime); the clock
 * finds the instants where they change, so a day of 23 or 25 hours, a
 * half-hour shift (Australia/Lord_Howe) or a change at midnight
 * (America/Santiago, where such a day starts at 01:00) are all exact.
 * Pure: no I/O, usable by the gateway, the CLI and the renderer alike.
 */

export const DAY_MS = 86_400_000;
/** Local days are looked up within this slack around UTC days (offsets lie within -12 h … +14 h). */
export const ZONE_SLACK_MS = DAY_MS;

const TZ_RE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;
/** Offsets are sampled at this step to find where they change (no zone changes twice within it). */
const SCAN_STEP_MS = 12 * 3_600_000;

/** The zone's canonical name, or null when it is not a time zone this runtime knows. */
export function canonicalTimeZone(value: unknown): string | null {
  if (typeof value !== 'string' || !TZ_RE.test(value)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** A stretch of time with one UTC offset: [start, end). */
export interface ZoneSegment {
  start: number;
  end: number;
  offsetMs: number;
}

export interface ZoneClock {
  readonly timeZone: string;
  /** Milliseconds to add to UTC for the zone's wall clock at `t`. */
  offsetAt(t: number): number;
  /** Days since 1970-01-01 of the wall-clock date at `t`. */
  localDay(t: number): number;
  /** The constant-offset stretches covering [from, to), in order. */
  segments(from: number, to: number): ZoneSegment[];
}

/** A clock for `timeZone` (throws RangeError for a zone the runtime does not know). Keep one per zone: it caches. */
export function zoneClock(timeZone: string): ZoneClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const resolved = format.resolvedOptions().timeZone;

  /** Offset at `t` (offsets change only at whole seconds). */
  const rawOffset = (t: number): number => {
    const s = Math.floor(t / 1000) * 1000;
    const v: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
    for (const part of format.formatToParts(s)) v[part.type] = Number(part.value);
    return Date.UTC(v.year ?? 1970, (v.month ?? 1) - 1, v.day ?? 1, v.hour ?? 0, v.minute ?? 0, v.second ?? 0) - s;
  };

  /** The first whole second in (lo, hi] whose offset differs from `loOffset` (the offset at lo; the one at hi differs). */
  const transition = (lo: number, hi: number, loOffset: number): number => {
    let a = Math.floor(lo / 1000);
    let b = Math.floor(hi / 1000);
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (rawOffset(mid * 1000) === loOffset) a = mid;
      else b = mid;
    }
    return b * 1000;
  };

  // The stretch the last lookup fell in: the budget asks about "now" over and over.
  let cached: ZoneSegment | null = null;

  const segmentAround = (t: number): ZoneSegment => {
    const offsetMs = rawOffset(t);
    let end = t;
    for (let i = 0; i < 28; i++) {
      const next = end + SCAN_STEP_MS;
      if (rawOffset(next) !== offsetMs) {
        end = transition(end, next, offsetMs);
        break;
      }
      end = next;
    }
    let start = t;
    for (let i = 0; i < 28; i++) {
      const prev = start - SCAN_STEP_MS;
      const prevOffset = rawOffset(prev);
      if (prevOffset !== offsetMs) {
        start = transition(prev, start, prevOffset);
        break;
      }
      start = prev;
    }
    return { start, end, offsetMs };
  };

  const offsetAt = (t: number): number => {
    if (cached && t >= cached.start && t < cached.end) return cached.offsetMs;
    cached = segmentAround(t);
    return cached.offsetMs;
  };

  return {
    timeZone: resolved,
    offsetAt,
    localDay: (t) => Math.floor((t + offsetAt(t)) / DAY_MS),
    segments(from, to) {
      const out: ZoneSegment[] = [];
      if (!(to > from)) return out;
      let start = from;
      let offsetMs = rawOffset(from);
      let lo = from;
      while (lo < to) {
        const hi = Math.min(lo + SCAN_STEP_MS, to);
        if (rawOffset(hi) !== offsetMs) {
          const change = transition(lo, hi, offsetMs);
          if (change >= to) break;
          out.push({ start, end: change, offsetMs });
          start = change;
          offsetMs = rawOffset(change);
          lo = change;
          continue;
        }
        lo = hi;
      }
      out.push({ start, end: to, offsetMs });
      return out;
    },
  };
}

/** 'YYYY-MM-DD' of a local day number. */
export function dayKey(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The local day number of a real calendar date 'YYYY-MM-DD' (2000–2199), else null. */
export function parseDayKey(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = DATE_RE.exec(value);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 2000 || y > 2199 || mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  const ms = Date.UTC(y, mo - 1, d);
  if (new Date(ms).getUTCDate() !== d) return null;
  return ms / DAY_MS;
}

/** The month of a local day: 'YYYY-MM' and its first and last day numbers. */
export function monthOfDay(day: number): { key: string; first: number; last: number } {
  const date = new Date(day * DAY_MS);
  const y = date.getUTCFullYear();
  const mo = date.getUTCMonth();
  return {
    key: `${String(y).padStart(4, '0')}-${String(mo + 1).padStart(2, '0')}`,
    first: Date.UTC(y, mo, 1) / DAY_MS,
    last: Date.UTC(y, mo + 1, 1) / DAY_MS - 1,
  };
}

/** Whether `value` is a 'YYYY-MM' month. */
export function isMonthKey(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = MONTH_RE.exec(value);
  return !!m && Number(m[2]) >= 1 && Number(m[2]) <= 12;
}
