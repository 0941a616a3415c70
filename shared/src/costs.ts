/**
 * The costs contract: ledger queries over the usage rows, hard budgets (the
 * user's and the plan's caps), and what the manager reads and sets. Money is
 * integer micro-dollars everywhere (1 USD = 1 000 000); null means "no cap"
 * for a cap and "unpriced" for a cost, never zero.
 */
import { z } from 'zod';
import { UsageSummarySchema } from './schemas';
import { canonicalTimeZone, parseDayKey } from './zone-days';

/** Largest money cap: $100 000. */
export const MAX_CAP_MICROS = 100_000 * 1_000_000;
/** Largest token cap: ten billion tokens. */
export const MAX_CAP_TOKENS = 10_000_000_000;
export const PLAN_REASON_CHARS = 300;

const USD_RE = /^(\d{1,9})(?:\.(\d{1,6}))?$/;

/** "12", "0.5", "0.000001" → micro-dollars (exact: no floating point); null for anything else or above the largest cap. */
export function parseUsd(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = USD_RE.exec(text.trim().replace(/^\$/, ''));
  if (!m) return null;
  const micros = Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
  return micros <= MAX_CAP_MICROS ? micros : null;
}

/** Micro-dollars as the shortest exact decimal ("1.5", "0.000001"), for inputs and CLI output. */
export function usdText(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const frac = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return frac.length > 0 ? `${whole}.${frac}` : String(whole);
}

/** "$1.50", or the exact amount below a cent ("$0.0042", "$0.000001"): a tiny cap must not read as $0.00. */
export function usdLabel(micros: number): string {
  if (micros >= 10_000) return `$${(micros / 1_000_000).toFixed(2)}`;
  return micros === 0 ? '$0.00' : `$${usdText(micros)}`;
}

export const TimeZoneSchema = z.string().max(64).refine((v) => canonicalTimeZone(v) !== null, 'not a known IANA time zone (e.g. Europe/Berlin)');
export const DayKeySchema = z.string().max(10).refine((v) => parseDayKey(v) !== null, 'not a real date YYYY-MM-DD');

export const CapMicrosSchema = z.number().int().min(0).max(MAX_CAP_MICROS).nullable();
export const CapTokensSchema = z.number().int().min(0).max(MAX_CAP_TOKENS).nullable();
export const SoftPercentSchema = z.number().int().min(1).max(100).nullable();

/* ---------- ledger ---------- */

/**
 * How usage can be split. `day` is the user's local date; `model` is
 * `provider:model`; `tool` is the tool(s) whose results a call read (a round
 * that ran several tools counts under their names joined by ","; a call that
 * answered the user's message directly, or summarized context, under null).
 */
export const LEDGER_GROUPS = ['day', 'model', 'session', 'channel', 'tool'] as const;
export const LedgerGroupSchema = z.enum(LEDGER_GROUPS);
export type LedgerGroup = z.infer<typeof LedgerGroupSchema>;

export const UsageLedgerInput = z
  .object({
    timeZone: TimeZoneSchema,
    /** First local date included (default: the first usage). */
    from: DayKeySchema.optional(),
    /** Last local date included (default: today and after). */
    to: DayKeySchema.optional(),
    by: z.array(LedgerGroupSchema).max(LEDGER_GROUPS.length).refine((v) => new Set(v).size === v.length, 'a grouping is named twice'),
  })
  .strict()
  .refine((v) => v.from === undefined || v.to === undefined || v.from <= v.to, { message: 'from is after to', path: ['from'] });
export type UsageLedgerQuery = z.infer<typeof UsageLedgerInput>;

/** The usage summary's totals, and the tokens of the unpriced calls among them. */
export const UsageTotalsSchema = UsageSummarySchema.extend({
  /** All tokens of the calls whose model is not in the price table (their cost is unknown, not zero). */
  unpricedTokens: z.number().int(),
});
export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

export const EMPTY_TOTALS: UsageTotals = {
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicros: 0,
  unpricedCalls: 0,
  unpricedTokens: 0,
};

/** a + b, field by field (integers: sums and re-aggregations stay exact). */
export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    calls: a.calls + b.calls,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costMicros: a.costMicros + b.costMicros,
    unpricedCalls: a.unpricedCalls + b.unpricedCalls,
    unpricedTokens: a.unpricedTokens + b.unpricedTokens,
  };
}

/** One group of the ledger: the keys asked for in `by`, then the totals. */
export const LedgerRowSchema = UsageTotalsSchema.extend({
  day: z.string().optional(),
  model: z.string().optional(),
  /** null: the session was deleted (its costs stay). */
  sessionId: z.string().nullable().optional(),
  channel: z.string().optional(),
  tool: z.string().nullable().optional(),
});
export type LedgerRow = z.infer<typeof LedgerRowSchema>;

export const UsageLedgerSchema = z.object({
  timeZone: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  by: z.array(LedgerGroupSchema),
  /** Ordered by the groups, in the order of `by`. */
  rows: z.array(LedgerRowSchema),
  total: UsageTotalsSchema,
  /** Title and channel of every session named in `rows`. */
  sessions: z.record(z.string(), z.object({ title: z.string(), channel: z.string() })),
});
export type UsageLedger = z.infer<typeof UsageLedgerSchema>;

/* ---------- budgets ---------- */

/** The user's own caps; every one optional (null: no cap). */
export const BudgetCapsSchema = z.object({
  dailyMicros: CapMicrosSchema,
  monthlyMicros: CapMicrosSchema,
  /** For each conversation on its own. */
  sessionMicros: CapMicrosSchema,
  /** All tokens of a local day, priced or not: the only cap that reaches unpriced models. */
  dailyTokens: CapTokensSchema,
  /** One notice per period when spend passes this share of the daily or monthly cap. */
  softPercent: SoftPercentSchema,
  /** Where the budget's days and months begin. */
  timeZone: z.string(),
});
export type BudgetCaps = z.infer<typeof BudgetCapsSchema>;

/** Caps the manager sets for the plan (zero when credits ran out); the user cannot go above them. */
export const PlanCapsSchema = z.object({
  dailyMicros: CapMicrosSchema,
  monthlyMicros: CapMicrosSchema,
  /** Shown to the user, e.g. "Your credits ran out — top up to continue." */
  reason: z.string().nullable(),
  updatedAt: z.number().nullable(),
  /** Pooled credits: what AI calls may still cost (before the margin) after usage row `creditAfter`; null: no credit cap. */
  creditMicros: CapMicrosSchema,
  creditAfter: z.number().int().nullable(),
});
export type PlanCaps = z.infer<typeof PlanCapsSchema>;

/** budget.set: each field left out stays as it is; null removes the cap. */
export const BudgetSetInput = z
  .object({
    dailyMicros: CapMicrosSchema.optional(),
    monthlyMicros: CapMicrosSchema.optional(),
    sessionMicros: CapMicrosSchema.optional(),
    dailyTokens: CapTokensSchema.optional(),
    softPercent: SoftPercentSchema.optional(),
    timeZone: TimeZoneSchema.optional(),
  })
  .strict();
export type BudgetPatch = z.infer<typeof BudgetSetInput>;

export const CapSourceSchema = z.enum(['user', 'plan']);
export type CapSource = z.infer<typeof CapSourceSchema>;

const PeriodSpendSchema = z.object({
  /** 'YYYY-MM-DD' or 'YYYY-MM' in the budget's time zone. */
  period: z.string(),
  spentMicros: z.number().int(),
  spentTokens: z.number().int(),
  unpricedCalls: z.number().int(),
});

export const BudgetStatusSchema = z.object({
  caps: BudgetCapsSchema,
  plan: PlanCapsSchema,
  /** What is enforced: the lower of the user's and the plan's cap, and whose it is. */
  effective: z.object({
    dailyMicros: CapMicrosSchema,
    dailySource: CapSourceSchema.nullable(),
    monthlyMicros: CapMicrosSchema,
    monthlySource: CapSourceSchema.nullable(),
    sessionMicros: CapMicrosSchema,
    dailyTokens: CapTokensSchema,
  }),
  day: PeriodSpendSchema,
  month: PeriodSpendSchema,
  /** Worst cases held by provider calls in flight. */
  reserved: z.object({ micros: z.number().int(), tokens: z.number().int(), calls: z.number().int() }),
  /** Pooled credit (only while the manager puts a credit cap): spent since its sync cursor, and what is left (at cost, before the margin). */
  credit: z.object({ limitMicros: z.number().int(), spentMicros: z.number().int(), leftMicros: z.number().int() }).optional(),
});
export type BudgetStatus = z.infer<typeof BudgetStatusSchema>;

export const BUDGET_CAPS = ['daily', 'monthly', 'session', 'dailyTokens', 'credit'] as const;
export type BudgetCapName = (typeof BUDGET_CAPS)[number];

/** `details` of a BUDGET_EXCEEDED error. Money caps carry the *Micros fields, the token cap the *Tokens ones. */
export interface BudgetExceededDetails {
  cap: BudgetCapName;
  source: CapSource;
  /** The day, month or session the cap applies to. */
  period: string;
  limitMicros?: number;
  spentMicros?: number;
  /** Held by other calls in flight. */
  reservedMicros?: number;
  remainingMicros?: number;
  /** The refused call's worst case (absent for an unpriced model). */
  neededMicros?: number;
  limitTokens?: number;
  spentTokens?: number;
  reservedTokens?: number;
  remainingTokens?: number;
  neededTokens?: number;
  /** The plan's reason, when the plan's cap refused. */
  reason?: string;
}

/* ---------- the manager's view (admin.* procedures) ---------- */

export const GatewayCostAdminInputs = {
  /** Usage rows with id > after, oldest first; re-reading a page gives the same rows. */
  usagePage: z
    .object({
      after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      limit: z.number().int().min(1).max(1_000),
    })
    .strict(),
  /** Replaces the plan's caps (null: no cap; 0: nothing may be spent). */
  setPlanCaps: z
    .object({
      dailyMicros: CapMicrosSchema,
      monthlyMicros: CapMicrosSchema,
      // eslint-disable-next-line no-control-regex -- control characters are refused
      reason: z.string().trim().min(1).max(PLAN_REASON_CHARS).regex(/^[^\u0000-\u001f]*$/, 'no control characters').nullable(),
      /** Pooled credits left (before the margin) for usage after row `creditAfter` (the manager's sync cursor); absent or null: none. */
      creditMicros: CapMicrosSchema.optional(),
      creditAfter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    })
    .strict(),
} as const;

export const UsageRowSchema = z.object({
  /** Increasing, never reused: the cursor. */
  id: z.number().int(),
  createdAt: z.number(),
  sessionId: z.string().nullable(),
  provider: z.string(),
  model: z.string(),
  channel: z.string(),
  tool: z.string().nullable(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  costMicros: z.number().int().nullable(),
});
export type UsageRow = z.infer<typeof UsageRowSchema>;

export const UsagePageSchema = z.object({
  rows: z.array(UsageRowSchema),
  /** The id of the last row returned (or `after` when none): pass it as the next `after`. */
  nextCursor: z.number().int(),
});
export type UsagePage = z.infer<typeof UsagePageSchema>;
