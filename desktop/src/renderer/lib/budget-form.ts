/** The budget form's fields: from the gateway's caps to text, and back (validated) to a patch. */
import { MAX_CAP_TOKENS, parseUsd, usdLabel, usdText, type BudgetPatch, type BudgetStatus } from '@autoclaw/shared';

export type Field = 'daily' | 'monthly' | 'session' | 'tokens' | 'soft';
export type Values = Record<Field, string>;
export type Errors = Partial<Record<Field, string>>;

export function valuesOf(s: BudgetStatus): Values {
  const money = (v: number | null) => (v === null ? '' : usdText(v));
  return {
    daily: money(s.caps.dailyMicros),
    monthly: money(s.caps.monthlyMicros),
    session: money(s.caps.sessionMicros),
    tokens: s.caps.dailyTokens === null ? '' : String(s.caps.dailyTokens),
    soft: s.caps.softPercent === null ? '' : String(s.caps.softPercent),
  };
}

/** The patch for the form, or the errors that stop it. Empty means no cap. */
export function validateBudget(values: Values, plan: BudgetStatus['plan']): { patch: BudgetPatch } | { errors: Errors } {
  const errors: Errors = {};
  const money = (field: Field, limit: number | null): number | null => {
    const text = values[field].trim();
    if (text === '') return null;
    const micros = parseUsd(text);
    if (micros === null) {
      errors[field] = 'Enter dollars, e.g. 2.50 (up to 100000, at most 6 decimals), or leave empty for no cap.';
      return null;
    }
    if (limit !== null && micros > limit) errors[field] = `Your plan allows at most ${usdLabel(limit)}.`;
    return micros;
  };
  const dailyMicros = money('daily', plan.dailyMicros);
  const monthlyMicros = money('monthly', plan.monthlyMicros);
  const sessionMicros = money('session', null);
  let dailyTokens: number | null = null;
  const tokens = values.tokens.trim().replace(/[,_\s]/g, '');
  if (tokens !== '') {
    if (/^\d{1,11}$/.test(tokens) && Number(tokens) <= MAX_CAP_TOKENS) dailyTokens = Number(tokens);
    else errors.tokens = 'Enter a whole number of tokens (up to 10 billion), or leave empty.';
  }
  let softPercent: number | null = null;
  const soft = values.soft.trim().replace(/%$/, '');
  if (soft !== '') {
    if (/^\d{1,3}$/.test(soft) && Number(soft) >= 1 && Number(soft) <= 100) softPercent = Number(soft);
    else errors.soft = 'Enter a whole percent from 1 to 100, or leave empty.';
  }
  if (Object.keys(errors).length > 0) return { errors };
  return { patch: { dailyMicros, monthlyMicros, sessionMicros, dailyTokens, softPercent } };
}

