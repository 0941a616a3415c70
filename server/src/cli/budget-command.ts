/**
 * `autoclaw budget set --data DIR [--daily USD] [--monthly USD] [--soft PERCENT]`
 * and `autoclaw budget show --data DIR --json`. Caps live in the data
 * directory's store; a running gateway reads them before every provider call,
 * so a change applies at once. `none` removes a cap.
 */
import { parseUsd, usdLabel, type BudgetPatch, type BudgetStatus } from '@autoclaw/shared';
import { parseDataDir, UsageError } from '../gateway';
import { parseFlags } from './args';
import { openExistingStore, withStore } from './data-store';
import type { CliIO } from './io';

function money(flag: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const micros = parseUsd(value);
  if (micros === null) throw new UsageError(`--${flag} must be an amount in US dollars from 0 to 100000 with at most 6 decimals, or "none" (got "${value.slice(0, 20)}")`);
  return micros;
}

function percent(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const m = /^(\d{1,3})%?$/.exec(value);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n >= 1 && n <= 100)) throw new UsageError(`--soft must be a whole percent from 1 to 100, or "none" (got "${value.slice(0, 20)}")`);
  return n;
}

function cap(micros: number | null, source?: string | null): string {
  if (micros === null) return 'none';
  return source === 'plan' ? `${usdLabel(micros)} (plan)` : usdLabel(micros);
}

function describe(s: BudgetStatus): string {
  const lines = [
    `time zone   ${s.caps.timeZone}`,
    `daily       ${cap(s.effective.dailyMicros, s.effective.dailySource)}   spent ${usdLabel(s.day.spentMicros)} on ${s.day.period}`,
    `monthly     ${cap(s.effective.monthlyMicros, s.effective.monthlySource)}   spent ${usdLabel(s.month.spentMicros)} in ${s.month.period}`,
    `session     ${cap(s.effective.sessionMicros)}`,
    `tokens/day  ${s.effective.dailyTokens === null ? 'none' : s.effective.dailyTokens}   used ${s.day.spentTokens}`,
    `soft        ${s.caps.softPercent === null ? 'none' : `${s.caps.softPercent}%`}`,
  ];
  if (s.plan.reason) lines.push(`plan        ${s.plan.reason}`);
  if (s.reserved.calls > 0) lines.push(`in flight   ${s.reserved.calls} calls hold ${usdLabel(s.reserved.micros)}`);
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { data: { type: 'string' }, daily: { type: 'string' }, monthly: { type: 'string' }, soft: { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  const [action] = positionals;
  if (action !== 'set' && action !== 'show') throw new UsageError(action === undefined ? 'say "set" or "show"' : `unknown action "${action.slice(0, 40)}"`);
  const dataDir = parseDataDir(values.data);
  if (action === 'show') {
    if (values.daily !== undefined || values.monthly !== undefined || values.soft !== undefined) throw new UsageError('"show" takes no caps; use "set"');
    const status = await withStore(openExistingStore(dataDir), (store) => store.budgetStatus());
    io.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : describe(status));
    return 0;
  }
  const patch: BudgetPatch = {};
  const daily = money('daily', values.daily);
  const monthly = money('monthly', values.monthly);
  const soft = percent(values.soft);
  if (daily !== undefined) patch.dailyMicros = daily;
  if (monthly !== undefined) patch.monthlyMicros = monthly;
  if (soft !== undefined) patch.softPercent = soft;
  if (Object.keys(patch).length === 0) throw new UsageError('give at least one of --daily USD, --monthly USD, --soft PERCENT');
  const status = await withStore(openExistingStore(dataDir), (store) => store.setBudgetCaps(patch));
  io.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : describe(status));
  return 0;
}
