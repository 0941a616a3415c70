import { formatMicros, type Usage } from '@autoclaw/shared';

const integer = new Intl.NumberFormat('en-US');

export function formatTokens(count: number): string {
  return integer.format(count);
}

/** "claude-sonnet-4-5 · 12 in · 40 out · $0.0006" (or "unpriced"). */
export function formatUsage(usage: Usage): string {
  const parts = [usage.model, `${formatTokens(usage.inputTokens)} in`, `${formatTokens(usage.outputTokens)} out`];
  if (usage.cacheReadTokens > 0) parts.push(`${formatTokens(usage.cacheReadTokens)} cache read`);
  if (usage.cacheWriteTokens > 0) parts.push(`${formatTokens(usage.cacheWriteTokens)} cache write`);
  parts.push(formatMicros(usage.costMicros));
  return parts.join(' · ');
}

export function formatTime(epochMs: number, now: number): string {
  const date = new Date(epochMs);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** Pretty-prints a tool's JSON input; shows the raw text when it is not JSON. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
