/**
 * The account's instances when it has more than one (a backup restored into
 * a new instance): which one the app talks to (the primary), "Use this
 * instance" to switch (instances.setPrimary — the app then pairs with and
 * chats to that one), and "Delete" for the others. Polled while one of them
 * is still being made, so a restore into a new instance shows its progress.
 */
import { useIsMutating, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Instance } from '@autoclaw/shared';
import { queryKeys } from '../../hooks/query-keys';
import { stateView } from '../../lib/instance-view';
import { managerErrorText } from '../../lib/manager-errors';
import { useManager } from '../../state/manager-context';
import { ConfirmButton } from '../confirm-button';

/** The mutation key of "Restore into new instance" (the list polls while it runs). */
export const RESTORE_INTO_NEW_KEY = ['manager', 'restore-into-new'] as const;
const INSTANCES_KEY = ['manager', 'instances'] as const;
const MAKING = new Set<Instance['state']>(['provisioning', 'restoring', 'starting', 'deleting']);

export function InstanceSwitcher({ current }: { current: Instance }) {
  const { client } = useManager();
  const queryClient = useQueryClient();
  const restoring = useIsMutating({ mutationKey: RESTORE_INTO_NEW_KEY }) > 0;
  const list = useQuery({
    queryKey: INSTANCES_KEY,
    queryFn: () => client.instances.list.query(),
    refetchInterval: (q) => (restoring || (q.state.data ?? []).some((i) => MAKING.has(i.state)) ? 1_000 : 15_000),
  });
  const act = useMutation({
    mutationFn: (a: { kind: 'use' | 'delete'; instanceId: string }) =>
      a.kind === 'use' ? client.instances.setPrimary.mutate({ instanceId: a.instanceId }) : client.instances.delete.mutate({ instanceId: a.instanceId }),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: INSTANCES_KEY });
      void queryClient.invalidateQueries({ queryKey: queryKeys.managerInstance });
    },
  });
  const instances = list.data ?? [];
  if (instances.length < 2 && !restoring) return null;
  return (
    <section className="settings-section instance-switcher" aria-labelledby="instances-title">
      <h2 id="instances-title">Your instances</h2>
      <p className="muted small">The app talks to the instance in use. Switch to another one, or delete the ones you no longer need.</p>
      {list.isPending && <p className="muted">Loading your instances…</p>}
      {list.error && (
        <p className="notice error" role="alert">
          {managerErrorText(list.error)}
        </p>
      )}
      <ul className="instances" aria-label="Instances">
        {instances.map((i) => {
          const inUse = i.id === current.id;
          const view = stateView(i.state);
          return (
            <li key={i.id} data-instance-id={i.id}>
              <code>{i.id}</code>{' '}
              <span className={`badge state state-${view.tone}`} data-state={i.state}>
                {view.label}
              </span>{' '}
              <span className="muted small">made {new Date(i.createdAt).toLocaleString()}</span>{' '}
              {inUse ? (
                <span className="badge accent">in use</span>
              ) : (
                <>
                  <button type="button" aria-label={`Use instance ${i.id}`} disabled={act.isPending || MAKING.has(i.state)} onClick={() => act.mutate({ kind: 'use', instanceId: i.id })}>
                    Use this instance
                  </button>{' '}
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete instance ${i.id}`}
                    question={`Delete ${i.id} with all its conversations and memory? This cannot be undone.`}
                    confirmLabel="Delete for good"
                    disabled={act.isPending || i.state === 'deleting'}
                    onConfirm={() => act.mutate({ kind: 'delete', instanceId: i.id })}
                  />
                </>
              )}
              {i.state === 'failed' && i.lastError && <span className="muted small"> {i.lastError.split('\n')[0]}</span>}
            </li>
          );
        })}
      </ul>
      {act.isError && (
        <p className="notice error" role="alert">
          {managerErrorText(act.error)}
        </p>
      )}
    </section>
  );
}
