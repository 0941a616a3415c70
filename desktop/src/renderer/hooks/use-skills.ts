import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SkillView } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { queryKeys } from './query-keys';

export function useSkills() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.skills, queryFn: () => client.skills.list.query() });
}

/** Tools that ask every time (no standing approval covers them), from the skills list. */
export function useEveryCallTools(): ReadonlySet<string> {
  const skills = useSkills();
  const names = new Set<string>();
  for (const skill of skills.data ?? []) for (const tool of skill.tools) if (tool.everyCall) names.add(tool.name);
  return names;
}

/** Enable/disable, secrets and settings: each answers with the skill's new view, put straight into the list. */
export function useSkillMutations() {
  const client = useGateway();
  const queryClient = useQueryClient();
  const put = (view: SkillView) => {
    queryClient.setQueryData<SkillView[]>(queryKeys.skills, (list) => list?.map((s) => (s.name === view.name ? view : s)));
  };
  const toggle = useMutation({
    mutationFn: (input: { name: string; enabled: boolean }) =>
      input.enabled ? client.skills.enable.mutate({ name: input.name }) : client.skills.disable.mutate({ name: input.name }),
    onSuccess: put,
  });
  const setSecret = useMutation({
    mutationFn: (input: { name: string; secret: string; value: string | null }) => client.skills.setSecret.mutate(input),
    onSuccess: put,
  });
  const setSetting = useMutation({
    mutationFn: (input: { name: string; setting: string; value: string | null }) => client.skills.setSetting.mutate(input),
    onSuccess: put,
  });
  return { toggle, setSecret, setSetting };
}

export function useApprovals() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.approvals, queryFn: () => client.skills.approvals.query() });
}

export function useRevokeApproval() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.skills.revokeApproval.mutate({ id }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.approvals }),
  });
}
