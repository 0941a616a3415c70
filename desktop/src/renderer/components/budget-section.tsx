/**
 * The budget settings: hard caps (daily, monthly, per conversation, daily
 * tokens) and the soft warning, validated here and again by the gateway;
 * the plan's caps are shown and bound what can be entered.
 */
import { forwardRef, useId, useState, type FormEvent, type Ref } from 'react';
import { formatMicros, usdLabel, type BudgetStatus } from '@autoclaw/shared';
import { validateBudget, valuesOf, type Errors, type Field, type Values } from '../lib/budget-form';
import { describeError } from '../lib/client-error';
import { formatTokens } from '../lib/format';
import { useBudget, useSetBudget } from '../hooks/use-costs';
import { useServices } from '../state/services';

const FIELDS: ReadonlyArray<{ field: Field; label: string; hint: string; unit: string }> = [
  { field: 'daily', label: 'Daily budget (USD)', hint: 'Answers that could go over it are refused before anything is sent.', unit: '$' },
  { field: 'monthly', label: 'Monthly budget (USD)', hint: 'For the calendar month.', unit: '$' },
  { field: 'session', label: 'Per-conversation budget (USD)', hint: 'Each conversation on its own.', unit: '$' },
  {
    field: 'tokens',
    label: 'Daily token cap',
    hint: 'All tokens of a day. The only cap for models without a price (e.g. local models): dollar caps cannot weigh them.',
    unit: 'tokens',
  },
  {
    field: 'soft',
    label: 'Warn at (% of a cap)',
    hint: 'One notice per day or month when spend passes this share of the daily or monthly cap.',
    unit: '%',
  },
];

interface FieldProps {
  id: string;
  label: string;
  hint: string;
  value: string;
  error: string | undefined;
  unit: string;
  onChange(value: string): void;
}

const BudgetField = forwardRef<HTMLInputElement, FieldProps>(function BudgetField({ id, label, hint, value, error, unit, onChange }, ref) {
  return (
    <div className="budget-field">
      <label htmlFor={id}>{label}</label>
      <span className="budget-input">
        {unit === '$' && <span aria-hidden="true">$</span>}
        <input
          ref={ref}
          id={id}
          inputMode={unit === '$' ? 'decimal' : 'numeric'}
          autoComplete="off"
          spellCheck={false}
          placeholder="no cap"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error !== undefined}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
        />
        {unit !== '$' && <span aria-hidden="true">{unit}</span>}
      </span>
      <span id={`${id}-hint`} className="hint">
        {hint}
      </span>
      {error && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
});

/** Spend so far (as shown everywhere) against a cap (exact: a tiny cap must not read as $0.00). */
function Meter({ label, spent, cap }: { label: string; spent: number; cap: number | null }) {
  if (cap === null) {
    return (
      <p className="budget-meter">
        {label}: {formatMicros(spent)} <span className="muted">(no cap)</span>
      </p>
    );
  }
  const text = `${label}: ${formatMicros(spent)} of ${usdLabel(cap)}`;
  return (
    <p className="budget-meter">
      <span>{text}</span>
      <meter min={0} max={Math.max(cap, 1)} low={cap * 0.8} high={cap * 0.95} optimum={0} value={Math.min(spent, cap)} aria-label={text} />
    </p>
  );
}

function BudgetForm({ status, save, firstField }: { status: BudgetStatus; save: ReturnType<typeof useSetBudget>; firstField?: Ref<HTMLInputElement> | undefined }) {
  const { timeZone } = useServices();
  const [values, setValues] = useState<Values>(() => valuesOf(status));
  const [errors, setErrors] = useState<Errors>({});
  const id = useId();
  const set = (field: Field) => (value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    save.reset();
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    const checked = validateBudget(values, status.plan);
    if ('errors' in checked) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    save.mutate({ ...checked.patch, timeZone: timeZone() });
  }

  return (
    <form className="budget-form" onSubmit={submit} noValidate>
      {FIELDS.map((f, i) => (
        <BudgetField
          key={f.field}
          ref={i === 0 ? firstField : undefined}
          id={`${id}-${f.field}`}
          label={f.label}
          hint={f.hint}
          unit={f.unit}
          value={values[f.field]}
          error={errors[f.field]}
          onChange={set(f.field)}
        />
      ))}
      <div className="budget-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save budget'}
        </button>
        {save.isSuccess && (
          <span className="notice success" role="status">
            Saved.
          </span>
        )}
      </div>
      {save.isError && (
        <p className="notice error" role="alert">
          {describeError(save.error).message}
        </p>
      )}
    </form>
  );
}

/** Pooled AI credit the manager put on this instance: what is left is a hard cap. */
function CreditCap({ credit, onTopUp }: { credit: NonNullable<BudgetStatus['credit']>; onTopUp?: (() => void) | undefined }) {
  const topUp = onTopUp ? (
    <button type="button" className="link" onClick={onTopUp}>
      Top up on the Billing page
    </button>
  ) : (
    <span>Top up on your account&apos;s Billing page.</span>
  );
  if (credit.leftMicros <= 0) {
    return (
      <div className="notice error credit-cap" role="alert" aria-label="AI credit">
        <p>
          <strong>Not enough AI credit — top up.</strong> Answers are refused before anything is sent until you do. {topUp}
        </p>
      </div>
    );
  }
  const text = `AI credit left: ${formatMicros(credit.leftMicros)} of ${usdLabel(credit.limitMicros)}`;
  return (
    <div className="credit-cap" role="status" aria-label="AI credit">
      <p className="budget-meter">
        <span>{text}</span>
        <meter min={0} max={Math.max(credit.limitMicros, 1)} low={credit.limitMicros * 0.2} high={credit.limitMicros * 0.5} optimum={credit.limitMicros} value={credit.leftMicros} aria-label={text} />
      </p>
      <p className="hint">
        A hard cap from your plan&apos;s credit: an answer that could cost more than what is left is refused before anything is sent. {topUp}
      </p>
    </div>
  );
}

export function BudgetSection({ firstField, onTopUp }: { firstField?: Ref<HTMLInputElement>; onTopUp?: (() => void) | undefined }) {
  const budget = useBudget();
  // Here, not in the form: the form is made anew when the caps change, and "Saved." must stay.
  const save = useSetBudget();
  return (
    <section className="settings-section budget" aria-labelledby="budget-title" id="budget">
      <h2 id="budget-title">Budget</h2>
      {budget.isPending && <p className="muted">Loading the budget…</p>}
      {budget.isError && (
        <div className="notice error" role="alert">
          <p>Could not load the budget: {describeError(budget.error).message}</p>
          <button type="button" onClick={() => void budget.refetch()}>
            Try again
          </button>
        </div>
      )}
      {budget.isSuccess && (
        <>
          {budget.data.credit && <CreditCap credit={budget.data.credit} onTopUp={onTopUp} />}
          <div className="budget-now">
            <Meter label={`Today (${budget.data.day.period})`} spent={budget.data.day.spentMicros} cap={budget.data.effective.dailyMicros} />
            <Meter label={`This month (${budget.data.month.period})`} spent={budget.data.month.spentMicros} cap={budget.data.effective.monthlyMicros} />
            {budget.data.effective.dailyTokens !== null && (
              <p className="budget-meter">
                Tokens today: {formatTokens(budget.data.day.spentTokens)} of {formatTokens(budget.data.effective.dailyTokens)}
              </p>
            )}
            {budget.data.reserved.calls > 0 && (
              <p className="muted">
                {budget.data.reserved.calls} answer{budget.data.reserved.calls === 1 ? '' : 's'} in progress hold {usdLabel(budget.data.reserved.micros)}.
              </p>
            )}
          </div>
          {(budget.data.plan.dailyMicros !== null || budget.data.plan.monthlyMicros !== null) && (
            <div className="notice plan-caps" role="note" aria-label="Plan limits">
              <strong>Your plan: </strong>
              {budget.data.plan.dailyMicros !== null && <span>at most {usdLabel(budget.data.plan.dailyMicros)} a day. </span>}
              {budget.data.plan.monthlyMicros !== null && <span>at most {usdLabel(budget.data.plan.monthlyMicros)} a month. </span>}
              {budget.data.plan.reason && <span>{budget.data.plan.reason} </span>}
              <span className="muted">Plan limits cannot be raised here.</span>
            </div>
          )}
          <p className="hint">
            Days and months begin in {budget.data.caps.timeZone}; saving uses this device&apos;s time zone. Leave a field empty for no cap.
          </p>
          <BudgetForm key={JSON.stringify(budget.data.caps)} status={budget.data} save={save} firstField={firstField} />
        </>
      )}
    </section>
  );
}
