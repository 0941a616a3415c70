/** Start, stop and delete (asks first) the user's instance; the result arrives through its events. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Instance } from '@autoclaw/shared';
import { queryKeys } from '../../hooks/query-keys';
import { controlsFor } from '../../lib/instance-view';
import { managerErrorText } from '../../lib/manager-errors';
import { useManager } from '../../state/manager-context';
import { ConfirmButton } from '../confirm-button';

type Action = 'start' | 'stop' | 'delete';

export function InstanceControls({ instance, onDeleted }: { instance: Instance; onDeleted: () => void }) {
  const { client } = useManager();
  const queryClient = useQueryClient();
  const act = useMutation({
    mutationFn: (action: Action) => {
      const input = { instanceId: instance.id };
      if (action === 'start') return client.instances.start.mutate(input);
      if (action === 'stop') return client.instances.stop.mutate(input);
      return client.instances.delete.mutate(input);
    },
    onSuccess: (_view, action) => {
      if (action === 'delete') onDeleted();
      void queryClient.invalidateQueries({ queryKey: queryKeys.managerInstance });
    },
  });
  const can = controlsFor(instance.state);
  const busy = act.isPending;
  return (
    <div className="instance-controls">
      <button type="button" className="primary" disabled={!can.start || busy} onClick={() => act.mutate('start')}>
        Start
      </button>
      <button type="button" disabled={!can.stop || busy} onClick={() => act.mutate('stop')}>
        Stop
      </button>
      <ConfirmButton
        label="Delete"
        ariaLabel="Delete instance"
        question="Delete your assistant and all its conversations and memory? This cannot be undone."
        confirmLabel="Delete for good"
        disabled={!can.delete || busy}
        onConfirm={() => act.mutate('delete')}
      />
      {act.isError && (
        <p className="notice error" role="alert">
          Could not {act.variables ?? 'do that'}: {managerErrorText(act.error)}
        </p>
      )}
    </div>
  );
}
