import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SettingKey } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { queryKeys } from './query-keys';

export function useSettingsView() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.settings, queryFn: () => client.settings.get.query() });
}

export function useSetSetting() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { key: SettingKey; value: string | null }) => client.settings.set.mutate(input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.settings }),
  });
}

export function useDevices() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.devices, queryFn: () => client.devices.list.query() });
}

export function useRevokeDevice() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (deviceId: string) => client.devices.revoke.mutate({ deviceId }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.devices }),
  });
}

export function useUsageSummary() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.usage, queryFn: () => client.usage.summary.query() });
}

export function useMemories(query: string) {
  const client = useGateway();
  return useQuery({
    queryKey: queryKeys.memories(query),
    queryFn: () => client.memory.search.query(query ? { query, limit: 50 } : { limit: 50 }),
  });
}

export function useDeleteMemory() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (memoryId: string) => client.memory.delete.mutate({ memoryId }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.memoriesAll }),
  });
}
