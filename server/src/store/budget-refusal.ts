/**
 * What a refused call tells the user: which cap, how much is spent and left,
 * and how to raise it. The text is stored with the failed turn, so it must
 * stand on its own; the numbers travel in `details` for clients.
 */
import { AppError, usdLabel, type BudgetCapName, type BudgetExceededDetails } from '@autoclaw/shared';

/** 12,345 — formatted when a refusal is written, so no formatter stays resident in a gateway that never refuses. */
const integer = { format: (n: number): string => n.toLocaleString('en-US') };

const usd = usdLabel;

const WHEN: Record<BudgetCapName, string> = {
  daily: 'today',
  monthly: 'this month',
  session: 'in this conversation',
  dailyTokens: 'today',
  credit: 'of your credit',
};

const NAME: Record<BudgetCapName, string> = {
  daily: 'Daily budget',
  monthly: 'Monthly budget',
  session: "This conversation's budget",
  dailyTokens: 'Daily token cap',
  credit: 'Not enough AI credit',
};

const RAISE: Record<BudgetCapName, string> = {
  daily: 'Raise the daily budget in Costs → Budget, or wait until tomorrow.',
  monthly: 'Raise the monthly budget in Costs → Budget, or wait until next month.',
  session: 'Raise the per-conversation budget in Costs → Budget, or start a new conversation.',
  dailyTokens: 'Raise the daily token cap in Costs → Budget, or wait until tomorrow.',
  credit: 'Top up on the Billing page to continue.',
};

export function budgetRefusal(d: BudgetExceededDetails): AppError {
  const plan = d.source === 'plan' && d.cap !== 'credit';
  const name = plan ? `Your plan's ${d.cap === 'daily' ? 'daily' : 'monthly'} limit` : NAME[d.cap];
  let facts: string;
  if (d.cap === 'dailyTokens') {
    const held = (d.reservedTokens ?? 0) > 0 ? ` (${integer.format(d.reservedTokens ?? 0)} held by answers in progress)` : '';
    facts =
      `${integer.format(d.spentTokens ?? 0)} of ${integer.format(d.limitTokens ?? 0)} tokens used ${WHEN[d.cap]}${held}, ` +
      `${integer.format(d.remainingTokens ?? 0)} left, and this answer could use up to ${integer.format(d.neededTokens ?? 0)}.`;
  } else if (d.cap === 'credit') {
    const held = (d.reservedMicros ?? 0) > 0 ? ` (${usd(d.reservedMicros ?? 0)} held by answers in progress)` : '';
    const need = d.neededMicros === undefined ? '' : `, and this answer could cost up to ${usd(d.neededMicros)}`;
    facts = `${usd(d.remainingMicros ?? 0)} of AI credit left${held}${need}.`;
  } else if (d.limitMicros === 0) {
    facts = 'it is $0, so nothing may be spent.';
  } else {
    const held = (d.reservedMicros ?? 0) > 0 ? ` (${usd(d.reservedMicros ?? 0)} held by answers in progress)` : '';
    const need = d.neededMicros === undefined ? '' : `, and this answer could cost up to ${usd(d.neededMicros)}`;
    facts = `${usd(d.spentMicros ?? 0)} of ${usd(d.limitMicros ?? 0)} spent ${WHEN[d.cap]}${held}, ${usd(d.remainingMicros ?? 0)} left${need}.`;
  }
  const how = plan
    ? `${d.reason ? `${d.reason} ` : ''}A plan limit cannot be raised here: top up credits or change the plan.`
    : d.cap === 'credit' && d.reason
      ? d.reason
      : RAISE[d.cap];
  return new AppError('BUDGET_EXCEEDED', `${name}${d.cap === 'credit' ? '' : ' reached'} — not sent: ${facts} ${how}`, { details: { ...d } });
}

/** The user asked for more than the plan allows. */
export function planLimitError(cap: 'daily' | 'monthly', limitMicros: number, reason: string | null): AppError {
  const per = cap === 'daily' ? 'a day' : 'a month';
  return new AppError('FORBIDDEN', `Your plan allows at most ${usd(limitMicros)} ${per}; choose a ${cap} budget at or below it.${reason ? ` ${reason}` : ''}`, {
    details: { cap, source: 'plan', limitMicros },
  });
}
