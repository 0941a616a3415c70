import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DAY_MS, canonicalTimeZone, dayKey, isMonthKey, monthOfDay, parseDayKey, zoneClock } from './zone-days';

/** Zones with the awkward cases: 23/25-hour days, half-hour DST, +05:45, a change at midnight, the date line. */
export const TRICKY_ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'America/St_Johns',
  'Asia/Tehran',
] as const;

/** The oracle: the wall-clock date Intl shows for `t` in `tz`. */
function intlDate(tz: string, t: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));
}

const at = (iso: string) => Date.parse(iso);

describe('zone clock', () => {
  it('agrees with Intl on the wall-clock date at any moment in any zone', () => {
    const clocks = new Map(TRICKY_ZONES.map((z) => [z, zoneClock(z)]));
    fc.assert(
      fc.property(fc.constantFrom(...TRICKY_ZONES), fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2031-01-01T00:00:00Z') }), (tz, t) => {
        expect(dayKey(clocks.get(tz)!.localDay(t))).toBe(intlDate(tz, t));
      }),
      { numRuns: 1000 },
    );
  });

  it('is exact at the edges of a 23-hour and a 25-hour day (America/New_York)', () => {
    const ny = zoneClock('America/New_York');
    // 2026-03-08 starts 05:00Z and ends 04:00Z the next day: 23 hours.
    expect(dayKey(ny.localDay(at('2026-03-08T04:59:59.999Z')))).toBe('2026-03-07');
    expect(dayKey(ny.localDay(at('2026-03-08T05:00:00.000Z')))).toBe('2026-03-08');
    expect(dayKey(ny.localDay(at('2026-03-09T03:59:59.999Z')))).toBe('2026-03-08');
    expect(dayKey(ny.localDay(at('2026-03-09T04:00:00.000Z')))).toBe('2026-03-09');
    // 2026-11-01 starts 04:00Z and ends 05:00Z the next day: 25 hours.
    expect(dayKey(ny.localDay(at('2026-11-01T03:59:59.999Z')))).toBe('2026-10-31');
    expect(dayKey(ny.localDay(at('2026-11-01T04:00:00.000Z')))).toBe('2026-11-01');
    expect(dayKey(ny.localDay(at('2026-11-02T04:59:59.999Z')))).toBe('2026-11-01');
    expect(dayKey(ny.localDay(at('2026-11-02T05:00:00.000Z')))).toBe('2026-11-02');
  });

  it('starts a day whose midnight does not exist at 01:00 (America/Santiago) and handles half-hour DST (Lord Howe)', () => {
    const santiago = zoneClock('America/Santiago');
    expect(dayKey(santiago.localDay(at('2026-09-06T03:59:59.999Z')))).toBe('2026-09-05');
    expect(dayKey(santiago.localDay(at('2026-09-06T04:00:00.000Z')))).toBe('2026-09-06');
    expect(santiago.offsetAt(at('2026-09-06T03:59:59Z'))).toBe(-4 * 3_600_000);
    expect(santiago.offsetAt(at('2026-09-06T04:00:00Z'))).toBe(-3 * 3_600_000);
    const lordHowe = zoneClock('Australia/Lord_Howe');
    expect(lordHowe.offsetAt(at('2026-04-04T14:59:59Z'))).toBe(11 * 3_600_000);
    expect(lordHowe.offsetAt(at('2026-04-04T15:00:00Z'))).toBe(10.5 * 3_600_000);
    expect(zoneClock('Asia/Kathmandu').offsetAt(at('2026-06-01T00:00:00Z'))).toBe(5.75 * 3_600_000);
  });

  it('splits a range into contiguous constant-offset segments at the exact change instants', () => {
    const berlin = zoneClock('Europe/Berlin');
    const segments = berlin.segments(at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'));
    expect(segments.map((s) => [new Date(s.start).toISOString(), s.offsetMs / 3_600_000])).toEqual([
      ['2026-01-01T00:00:00.000Z', 1],
      ['2026-03-29T01:00:00.000Z', 2],
      ['2026-10-25T01:00:00.000Z', 1],
    ]);
    for (let i = 1; i < segments.length; i++) expect(segments[i]!.start).toBe(segments[i - 1]!.end);
    expect(segments.at(-1)!.end).toBe(at('2027-01-01T00:00:00Z'));
    expect(zoneClock('UTC').segments(5, 5)).toEqual([]);
  });

  it('segments agree with offsetAt everywhere inside them', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TRICKY_ZONES),
        fc.integer({ min: at('2021-01-01T00:00:00Z'), max: at('2029-01-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 400 * DAY_MS }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (tz, from, span, probes) => {
          const fresh = zoneClock(tz);
          const segments = fresh.segments(from, from + span);
          expect(segments[0]!.start).toBe(from);
          expect(segments.at(-1)!.end).toBe(from + span);
          for (const p of probes) {
            const t = Math.min(from + span - 1, from + Math.floor(p * span));
            const seg = segments.find((s) => t >= s.start && t < s.end)!;
            expect(seg.offsetMs).toBe(zoneClock(tz).offsetAt(t));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('zone names and dates', () => {
  it('accepts IANA zones and refuses anything else', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    for (const bad of ['', 'Mars/Olympus', 'Europe/../etc', '../../x', 'a'.repeat(80), 42, null, 'Europe/Berlin\n', ' UTC']) {
      expect(canonicalTimeZone(bad)).toBeNull();
    }
  });

  it('parses real dates only', () => {
    expect(parseDayKey('2026-12-06')).toBe(Date.UTC(2026, 11, 6) / DAY_MS);
    expect(dayKey(parseDayKey('2024-02-29')!)).toBe('2024-02-29');
    for (const bad of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '26-01-01', '2026-1-1', '1999-12-31', 'today', 20261206, null]) {
      expect(parseDayKey(bad)).toBeNull();
    }
  });

  it('knows the month of a day', () => {
    expect(monthOfDay(parseDayKey('2026-02-14')!)).toEqual({ key: '2026-02', first: parseDayKey('2026-02-01'), last: parseDayKey('2026-02-28') });
    expect(isMonthKey('2026-12')).toBe(true);
    expect(isMonthKey('2026-13')).toBe(false);
  });
});
