/**
 * The signed-in account's billing on the manager: billing.status and
 * billing.invoices, and the actions that open Stripe Checkout (a top-up, a
 * plan) or flip the BYOK switch. Coming back from Checkout (?checkout=done)
 * the status is read again until the webhook's credit shows.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BillingPlan } from '@autoclaw/shared';
import { useManager } from '../state/manager-context';
import { queryKeys } from './query-keys';

export function useBilling(opts: { returning: boolean }) {
  const { client } = useManager();
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: queryKeys.managerBilling,
    queryFn: () => client.billing.status.query(),
    // Back from Checkout the credit arrives with Stripe's webhook: look again for a while.
    refetchInterval: opts.returning ? 2_000 : 30_000,
  });
  const enabled = status.data?.enabled === true;
  const invoices = useQuery({ queryKey: queryKeys.managerInvoices, queryFn: () => client.billing.invoices.query(), enabled });
  const returnUrl = () => {
    const here = new URL(window.location.href);
    here.searchParams.delete('checkout');
    return here.toString();
  };
  const go = (url: string) => window.location.assign(url);
  const topUp = useMutation({
    mutationFn: (amountCents: number) => client.billing.topUp.mutate({ amountCents, returnUrl: returnUrl() }),
    onSuccess: ({ url }) => go(url),
  });
  const subscribe = useMutation({
    mutationFn: (plan: BillingPlan) => client.billing.subscribe.mutate({ plan, returnUrl: returnUrl() }),
    onSuccess: ({ url }) => go(url),
  });
  const setByok = useMutation({
    mutationFn: (byok: boolean) => client.billing.setByok.mutate({ byok }),
    onSuccess: (next) => queryClient.setQueryData(queryKeys.managerBilling, next),
  });
  return { status, invoices, topUp, subscribe, setByok };
}
