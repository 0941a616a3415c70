import { z } from 'zod';
import { defineTool, type InProcessTool } from '../define-tool';

/** `2026-11-25T09:17:00+01:00` for the given instant in the process's time zone. */
export function localIso(ms: number): string {
  const d = new Date(ms);
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${offset}`
  );
}

let zone: string | undefined;

/** The process's IANA time zone; resolved once (ICU's resolution is slow and the zone is fixed at start). */
export function timeZoneName(): string {
  zone ??= Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return zone;
}

export const currentTime: InProcessTool = defineTool({
  name: 'current_time',
  description: 'The current date and time (ISO 8601) and the time zone of the assistant\'s host.',
  risky: false,
  input: z.object({}),
  run(_input, ctx) {
    const ms = ctx.now();
    return JSON.stringify({ utc: new Date(ms).toISOString(), local: localIso(ms), timeZone: timeZoneName() });
  },
});
