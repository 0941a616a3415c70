import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BudgetPatch, UsageLedgerQuery } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { queryKeys } from './query-keys';

/** The ledger for the Costs page; refreshed every half minute while shown. */
export function useLedger(query: UsageLedgerQuery) {
  const client = useGateway();
  return useQuery({
    queryKey: queryKeys.ledger(JSON.stringify(query)),
    queryFn: () => client.usage.ledger.query(query),
    refetchInterval: 30_000,
  });
}

export function useBudget() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.budget, queryFn: () => client.budget.get.query(), refetchInterval: 30_000 });
}

export function useSetBudget() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: BudgetPatch) => client.budget.set.mutate(patch),
    onSuccess: (status) => queryClient.setQueryData(queryKeys.budget, status),
  });
}
