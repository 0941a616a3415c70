/** The account's billing on the manager: plan, payment state, credits (top up), invoices and the BYOK switch. */
import { useId, useState, type FormEvent } from 'react';
import { BILLING_PLANS, TOP_UP_MAX_CENTS, TOP_UP_MIN_CENTS, usdLabel } from '@autoclaw/shared';
import type { BillingPlan, BillingStatus, PaymentState, SubscriptionState } from '@autoclaw/shared';
import { useBilling } from '../../hooks/use-billing';
import { managerErrorText } from '../../lib/manager-errors';
import { LoadError } from '../load-error';

const SUBSCRIPTION_TEXT: Record<SubscriptionState, string> = {
  none: 'No plan yet',
  incomplete: 'Waiting for the first payment',
  trialing: 'Trial',
  active: 'Active',
  past_due: 'Payment overdue',
  unpaid: 'Unpaid',
  paused: 'Paused',
  canceled: 'Canceled',
};
const PAYMENT_TEXT: Record<PaymentState, string> = { none: 'No payment yet', paid: 'Last invoice paid', failed: 'Last payment failed — update your card in Stripe' };

/** "20" or "20.50" → cents; null for anything else. */
function centsOf(text: string): number | null {
  const m = /^\$?\s*(\d{1,6})(?:\.(\d{1,2}))?$/.exec(text.trim());
  return m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : null;
}

export function BillingPage() {
  const returning = new URLSearchParams(window.location.search).get('checkout') === 'done';
  const { status, invoices, topUp, subscribe, setByok, awaited, arrived, stopWaiting } = useBilling({ returning });
  const s = status.data;
  return (
    <div className="settings billing-page" aria-label="Billing">
      <h1>Billing</h1>
      {status.isPending && <p className="muted">Loading billing…</p>}
      {status.isError && <LoadError what="billing" error={status.error} retry={() => status.refetch()} />}
      {s && !s.enabled && (
        <p className="empty" role="status" aria-label="Billing state">
          Billing is off on this manager: nothing is charged, and you pay your AI provider directly.
        </p>
      )}
      {s?.enabled && (
        <>
          {returning && <p className="notice" role="status">Thanks — your payment is being confirmed; the balance updates in a moment.</p>}
          {awaited && (
            <p className="notice" role="status" aria-label="Payment">
              Finish the payment in your browser — this page updates when it arrives.{' '}
              <button type="button" className="link" onClick={stopWaiting}>
                Stop waiting
              </button>
            </p>
          )}
          {arrived && (
            <p className="notice" role="status" aria-label="Payment">
              {arrived === 'top-up' ? `Payment received — your credit is now ${usdLabel(Math.max(0, s.creditMicros))}.` : s.subscription === 'active' ? 'Payment received — your plan is active.' : `Your plan: ${SUBSCRIPTION_TEXT[s.subscription]}.`}
            </p>
          )}
          <CreditsSection status={s} pending={topUp.isPending} error={topUp.error} onTopUp={(cents) => topUp.mutate(cents)} />
          <PlanSection status={s} pending={subscribe.isPending} error={subscribe.error} onSubscribe={(plan) => subscribe.mutate(plan)} />
          <section className="settings-section" aria-labelledby="byok-title">
            <h2 id="byok-title">Your own provider key (BYOK)</h2>
            <label className="checkbox">
              <input type="checkbox" checked={s.byok} disabled={setByok.isPending} onChange={(e) => setByok.mutate(e.target.checked)} />
              Use my own provider key: AI costs are paid to the provider, only the platform fee is billed here
            </label>
            <p className="hint">Your key stays encrypted in your assistant (Settings → Models).</p>
            {setByok.isError && (
              <p className="notice error" role="alert">
                {managerErrorText(setByok.error)}
              </p>
            )}
          </section>
          <section className="settings-section" aria-labelledby="invoices-title">
            <h2 id="invoices-title">Invoices</h2>
            {invoices.isPending && <p className="muted">Loading invoices…</p>}
            {invoices.isError && <LoadError what="invoices" error={invoices.error} retry={() => invoices.refetch()} />}
            {invoices.data?.length === 0 && <p className="empty">No invoices yet.</p>}
            {invoices.data && invoices.data.length > 0 && (
              <div className="cost-table-wrap">
                <table className="cost-table" aria-label="Invoices">
                  <thead>
                    <tr>
                      <th scope="col">Date</th>
                      <th scope="col">Number</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="num">
                        Paid
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {invoices.data.map((i) => (
                      <tr key={i.id}>
                        <td>{new Date(i.created).toLocaleDateString()}</td>
                        <td>{i.url ? <a href={i.url} target="_blank" rel="noreferrer noopener">{i.number ?? i.id}</a> : (i.number ?? i.id)}</td>
                        <td>{i.status ?? '—'}</td>
                        <td className="num">{usdLabel(i.amountPaidCents * 10_000)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function CreditsSection(props: { status: BillingStatus; pending: boolean; error: unknown; onTopUp: (cents: number) => void }) {
  const { status } = props;
  const id = useId();
  const [amount, setAmount] = useState('20');
  const [invalid, setInvalid] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const cents = centsOf(amount);
    if (cents === null || cents < TOP_UP_MIN_CENTS || cents > TOP_UP_MAX_CENTS) {
      setInvalid(`Enter an amount from $${TOP_UP_MIN_CENTS / 100} to $${TOP_UP_MAX_CENTS / 100}.`);
      return;
    }
    setInvalid(null);
    props.onTopUp(cents);
  };
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>AI credits</h2>
      <p className="cost-figure-amount" role="status" aria-label="Credit balance">
        {usdLabel(Math.max(0, status.creditMicros))}
      </p>
      {status.byok ? (
        <p className="hint">You use your own provider key: credits are not used.</p>
      ) : (
        <p className="hint">
          AI costs are taken from your credits{status.marginBps > 0 ? ` plus a ${status.marginBps / 100} % service margin` : ''}.
          {status.monthlyReset ? ' Unused credits expire at the start of each month.' : ''}
        </p>
      )}
      {status.paused && (
        <p className="notice error" role="alert">
          Your credits ran out: your assistant answers again after a top-up.
        </p>
      )}
      <form className="budget-form" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-amount`}>Top-up amount (USD)</label>
        <input
          id={`${id}-amount`}
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          aria-invalid={invalid !== null}
          aria-describedby={invalid ? `${id}-error` : undefined}
        />
        {invalid && (
          <span id={`${id}-error`} className="field-error" role="alert">
            {invalid}
          </span>
        )}
        <button type="submit" className="primary" disabled={props.pending}>
          {props.pending ? 'Opening checkout…' : 'Top up'}
        </button>
      </form>
      {props.error != null && (
        <p className="notice error" role="alert">
          {managerErrorText(props.error)}
        </p>
      )}
    </section>
  );
}

function PlanSection(props: { status: BillingStatus; pending: boolean; error: unknown; onSubscribe: (plan: BillingPlan) => void }) {
  const { status } = props;
  const current = status.plan && status.subscription !== 'canceled' ? status.plan : null;
  return (
    <section className="settings-section" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan</h2>
      <dl className="billing-facts">
        <dt>Plan</dt>
        <dd aria-label="Plan">{status.plan ? BILLING_PLANS[status.plan].label : 'None'}</dd>
        <dt>Subscription</dt>
        <dd aria-label="Subscription state">{SUBSCRIPTION_TEXT[status.subscription]}</dd>
        <dt>Payment</dt>
        <dd aria-label="Payment state">{PAYMENT_TEXT[status.payment]}</dd>
      </dl>
      {current === null && (
        <div className="budget-actions">
          {(Object.keys(BILLING_PLANS) as BillingPlan[]).map((plan) => (
            <button key={plan} type="button" disabled={props.pending} onClick={() => props.onSubscribe(plan)}>
              Subscribe to {BILLING_PLANS[plan].label} ({usdLabel(BILLING_PLANS[plan].monthlyCents * 10_000)}/month)
            </button>
          ))}
        </div>
      )}
      {props.error != null && (
        <p className="notice error" role="alert">
          {managerErrorText(props.error)}
        </p>
      )}
    </section>
  );
}
