/**
 * The signed-in account's billing on the manager: billing.status and
 * billing.invoices, and the actions that open Stripe Checkout (a top-up, a
 * plan) or flip the BYOK switch. In a browser, Checkout replaces the page and
 * comes back with ?checkout=done. In the desktop app, Checkout opens in the
 * system browser (window.autoclaw.openCheckout), returns to the manager's
 * /billing/return page, and this page keeps reading the status until the
 * webhook's credit (or plan) shows.
 */
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BillingPlan, BillingStatus } from '@autoclaw/shared';
import { useManager } from '../state/manager-context';
import { queryKeys } from './query-keys';

/** What a payment started in the system browser waits for. */
export interface AwaitedPayment {
  kind: 'top-up' | 'plan';
  /** The status when Checkout opened: the payment has arrived when it changes. */
  before: Pick<BillingStatus, 'creditMicros' | 'subscription'>;
}

export function paymentArrived(awaited: AwaitedPayment, now: BillingStatus): boolean {
  return awaited.kind === 'top-up' ? now.creditMicros > awaited.before.creditMicros : now.subscription !== awaited.before.subscription && now.subscription !== 'incomplete';
}

export function useBilling(opts: { returning: boolean }) {
  const { client, managerUrl } = useManager();
  const queryClient = useQueryClient();
  const desktop = typeof window !== 'undefined' ? window.autoclaw : undefined;
  const [awaited, setAwaited] = useState<AwaitedPayment | null>(null);
  const [arrived, setArrived] = useState<AwaitedPayment['kind'] | null>(null);
  const status = useQuery({
    queryKey: queryKeys.managerBilling,
    queryFn: () => client.billing.status.query(),
    // After Checkout the credit arrives with Stripe's webhook: look again for a while.
    refetchInterval: opts.returning || awaited ? 2_000 : 30_000,
  });
  const enabled = status.data?.enabled === true;
  const invoices = useQuery({ queryKey: queryKeys.managerInvoices, queryFn: () => client.billing.invoices.query(), enabled });
  useEffect(() => {
    if (!awaited || !status.data || !paymentArrived(awaited, status.data)) return;
    setArrived(awaited.kind);
    setAwaited(null);
    void queryClient.invalidateQueries({ queryKey: queryKeys.managerInvoices });
  }, [awaited, status.data, queryClient]);

  const returnUrl = () => {
    // Stripe cannot send the user back into the app: the manager's own page says "go back to AutoClaw".
    if (desktop) return new URL('/billing/return', managerUrl).toString();
    const here = new URL(window.location.href);
    here.searchParams.delete('checkout');
    return here.toString();
  };
  const go = async (url: string, kind: AwaitedPayment['kind']) => {
    if (!desktop) {
      window.location.assign(url);
      return;
    }
    const now = status.data;
    await desktop.openCheckout(url);
    setArrived(null);
    setAwaited({ kind, before: { creditMicros: now?.creditMicros ?? 0, subscription: now?.subscription ?? 'none' } });
  };
  const topUp = useMutation({
    mutationFn: async (amountCents: number) => go((await client.billing.topUp.mutate({ amountCents, returnUrl: returnUrl() })).url, 'top-up'),
  });
  const subscribe = useMutation({
    mutationFn: async (plan: BillingPlan) => go((await client.billing.subscribe.mutate({ plan, returnUrl: returnUrl() })).url, 'plan'),
  });
  const setByok = useMutation({
    mutationFn: (byok: boolean) => client.billing.setByok.mutate({ byok }),
    onSuccess: (next) => queryClient.setQueryData(queryKeys.managerBilling, next),
  });
  return { status, invoices, topUp, subscribe, setByok, awaited, arrived, stopWaiting: () => setAwaited(null) };
}
