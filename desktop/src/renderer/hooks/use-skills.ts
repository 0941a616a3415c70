import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SkillView } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
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

/**
 * Connecting a Google account: asks the gateway for the sign-in URL (PKCE),
 * opens it in a new tab or the system browser, then watches the skill until
 * the redirect has connected it (the gateway finishes the sign-in itself).
 */
export function useOAuthConnect(name: string) {
  const client = useGateway();
  const queryClient = useQueryClient();
  const [authUrl, setAuthUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const skills = useSkills();
  const connected = skills.data?.find((s) => s.name === name)?.oauth?.connected ?? false;
  const waiting = authUrl !== null && !connected;

  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => void queryClient.invalidateQueries({ queryKey: queryKeys.skills }), 2_000);
    const stop = setTimeout(() => setAuthUrl(null), 10 * 60_000);
    return () => {
      clearInterval(timer);
      clearTimeout(stop);
    };
  }, [waiting, queryClient]);

  return {
    authUrl,
    waiting,
    starting,
    error,
    start() {
      setError(null);
      setStarting(true);
      // Opened before the await: browsers allow a window only within the click.
      const tab = window.open('', '_blank');
      client.skills.oauthStart
        .mutate({ name })
        .then(({ authUrl: url }) => {
          setAuthUrl(url);
          if (tab) {
            tab.opener = null;
            tab.location.href = url;
          } else {
            // The desktop app opens links in the system browser (its window handler); a blocked pop-up leaves the link shown.
            window.open(url, '_blank', 'noopener');
          }
        })
        .catch((err: unknown) => {
          tab?.close();
          setError(describeError(err).message);
        })
        .finally(() => setStarting(false));
    },
    disconnect() {
      setAuthUrl(null);
      client.skills.oauthDisconnect.mutate({ name }).then(
        (view) => queryClient.setQueryData<SkillView[]>(queryKeys.skills, (list) => list?.map((s) => (s.name === view.name ? view : s))),
        (err: unknown) => setError(describeError(err).message),
      );
    },
  };
}
