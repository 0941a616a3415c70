import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { DeviceRole, SettingKey } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { queryKeys } from './query-keys';
import { refreshQueries } from '../lib/refresh-queries';

export function useSettingsView() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.settings, queryFn: () => client.settings.get.query() });
}

export function useSetSetting() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { key: SettingKey; value: string | null; apiKey?: string | null }) => client.settings.set.mutate(input),
    onSuccess: () => {
      void refreshQueries(queryClient, queryKeys.audit);
      return queryClient.invalidateQueries({ queryKey: queryKeys.settings });
    },
  });
}

/** Who this device is, with its role (owner or chat). */
export function useWhoAmI() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.whoami, queryFn: () => client.auth.whoami.query() });
}

export function useSetDeviceRole() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { deviceId: string; role: DeviceRole }) => client.devices.setRole.mutate(input),
    onSuccess: () => {
      void refreshQueries(queryClient, queryKeys.audit);
      return queryClient.invalidateQueries({ queryKey: queryKeys.devices });
    },
  });
}

/** The gateway's audit log, newest first, a page at a time. */
export function useAuditLog(enabled: boolean) {
  const client = useGateway();
  return useInfiniteQuery({
    queryKey: queryKeys.audit,
    enabled,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => client.audit.list.query(pageParam === undefined ? { limit: 20 } : { limit: 20, cursor: pageParam }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
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
    onSuccess: () => {
      void refreshQueries(queryClient, queryKeys.audit);
      return queryClient.invalidateQueries({ queryKey: queryKeys.devices });
    },
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
