/**
 * Updates and backups of the user's instance: the version it runs, its
 * channel and maintenance window, "Update now" with each step live (the
 * instance's events, already followed by the page), the history with
 * rollbacks and their reasons, "Roll back"; backups with create, download
 * and restore. Every new event refreshes these lists.
 */
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Backup, Instance, InstanceEvent, InstanceRelease, ReleaseChannel, UpdateRun } from '@autoclaw/shared';
import { queryKeys } from '../../hooks/query-keys';
import { managerErrorText } from '../../lib/manager-errors';
import { useManager } from '../../state/manager-context';
import { ConfirmButton } from '../confirm-button';
import { RESTORE_INTO_NEW_KEY } from './instance-switcher';
import { refreshQueries } from '../../lib/refresh-queries';

const when = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toLocaleString());
const hhmm = (minute: number) => `${String(Math.floor(minute / 60) % 24).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
const minuteOf = (value: string): number | null => {
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
};
const size = (bytes: number) => (bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`);

function outcomeText(run: UpdateRun): string {
  const what = run.kind === 'update' ? `Update ${run.fromVersion} → ${run.toVersion}` : `Roll back ${run.fromVersion} → ${run.toVersion}`;
  if (run.outcome === 'running') return `${what}: in progress (${run.step})`;
  if (run.outcome === 'succeeded') return `${what}: done`;
  if (run.outcome === 'rolled-back') return `${what}: rolled back — ${run.reason ?? 'no reason given'}`;
  return `${what}: failed — ${run.reason ?? 'no reason given'}`;
}

export function InstanceUpdates({ instance, events }: { instance: Instance; events: readonly InstanceEvent[] }) {
  const { client } = useManager();
  const queryClient = useQueryClient();
  const input = { instanceId: instance.id };
  const key = (part: string) => ['manager', 'updates', instance.id, part] as const;
  const status = useQuery({ queryKey: key('status'), queryFn: () => client.updates.status.query(input) });
  const history = useQuery({ queryKey: key('history'), queryFn: () => client.updates.history.query(input) });
  const backups = useQuery({ queryKey: key('backups'), queryFn: () => client.backups.list.query(input) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['manager', 'updates', instance.id] });
  const lastEventId = events.at(-1)?.id;
  useEffect(() => {
    if (lastEventId !== undefined) void refreshQueries(queryClient, ['manager', 'updates', instance.id]);
  }, [lastEventId, instance.id, queryClient]);

  const act = useMutation({
    mutationFn: async (action: { kind: 'update' | 'rollback' | 'backup' | 'restore'; backupId?: string }) => {
      if (action.kind === 'update') return client.updates.updateNow.mutate(input);
      if (action.kind === 'rollback') return client.updates.rollback.mutate(input);
      if (action.kind === 'backup' || action.backupId === undefined) return client.backups.create.mutate(input);
      return client.backups.restore.mutate({ ...input, backupId: action.backupId });
    },
    onSettled: () => {
      refresh();
      void queryClient.invalidateQueries({ queryKey: queryKeys.managerInstance });
    },
  });
  const intoNew = useMutation({
    mutationKey: RESTORE_INTO_NEW_KEY,
    mutationFn: (backupId: string) => client.backups.restore.mutate({ ...input, backupId, intoNew: true }),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['manager', 'instances'] }),
  });
  const settings = useMutation({
    mutationFn: (patch: { channel?: ReleaseChannel; window?: InstanceRelease['window'] }) => client.updates.settings.mutate({ ...input, ...patch }),
    onSuccess: (next) => queryClient.setQueryData(key('status'), next),
  });

  const busy = act.isPending || instance.state === 'updating' || instance.state === 'restoring';
  const running = history.data?.find((r) => r.outcome === 'running') ?? null;
  // The steps of the update in progress (or the last one): the instance's update events since it began.
  const latest = history.data?.[0] ?? null;
  const steps = latest ? events.filter((e) => e.kind === 'update' && e.at >= latest.startedAt) : [];
  const s = status.data;

  return (
    <section className="settings-section instance-updates" aria-labelledby="updates-title">
      <h2 id="updates-title">Updates and backups</h2>
      {status.isPending && <p className="muted">Loading the version…</p>}
      {status.error && (
        <p className="notice error" role="alert">
          Could not load the version: {managerErrorText(status.error)}
        </p>
      )}
      {s && (
        <>
          <dl className="facts" aria-label="Version">
            <dt>Version</dt>
            <dd data-testid="instance-version">{s.version}</dd>
            <dt>Previous version</dt>
            <dd>{s.previousVersion ?? 'none'}</dd>
            <dt>Last updated</dt>
            <dd>{when(s.lastUpdatedAt)}</dd>
            <dt>Last backup</dt>
            <dd>{when(s.lastBackupAt)}</dd>
            <dt>Available</dt>
            <dd>{s.available ?? 'you run the newest release of your channel'}</dd>
          </dl>
          <div className="form-row">
            <label>
              Channel{' '}
              <select aria-label="Update channel" value={s.channel} disabled={settings.isPending} onChange={(e) => settings.mutate({ channel: e.target.value as ReleaseChannel })}>
                <option value="stable">stable</option>
                <option value="beta">beta</option>
              </select>
            </label>
            <WindowEditor window={s.window} disabled={settings.isPending} onSave={(window) => settings.mutate({ window })} />
          </div>
          {settings.isError && (
            <p className="notice error" role="alert">
              Could not save: {managerErrorText(settings.error)}
            </p>
          )}
          <div className="instance-controls">
            <button type="button" className="primary" disabled={busy || s.available === null} onClick={() => act.mutate({ kind: 'update' })}>
              Update now
            </button>
            <ConfirmButton
              label="Roll back"
              ariaLabel="Roll back"
              question={`Go back to ${s.previousVersion ?? 'the previous version'}? A backup is taken first.`}
              confirmLabel="Roll back now"
              disabled={busy || s.previousVersion === null}
              onConfirm={() => act.mutate({ kind: 'rollback' })}
            />
          </div>
        </>
      )}
      {act.isError && (
        <p className="notice error" role="alert">
          {managerErrorText(act.error)}
        </p>
      )}
      {steps.length > 0 && (
        <ol className="update-steps" aria-label="Update progress" aria-live="polite">
          {steps.map((e) => (
            <li key={e.id}>{e.message}</li>
          ))}
          {running === null && latest && <li data-outcome={latest.outcome}>{latest.outcome === 'succeeded' ? 'Done' : latest.outcome === 'rolled-back' ? 'Rolled back' : 'Failed'}</li>}
        </ol>
      )}
      <h3>History</h3>
      {history.isPending && <p className="muted">Loading the history…</p>}
      {history.error && (
        <p className="notice error" role="alert">
          {managerErrorText(history.error)}
        </p>
      )}
      {history.data?.length === 0 && <p className="empty">No updates yet.</p>}
      {history.data && history.data.length > 0 && (
        <ul className="update-history" aria-label="Update history">
          {history.data.map((run) => (
            <li key={run.id} data-outcome={run.outcome}>
              <span>{outcomeText(run)}</span> <span className="muted small">{when(run.startedAt)}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>Backups</h3>
      <button type="button" disabled={busy} onClick={() => act.mutate({ kind: 'backup' })}>
        Create backup
      </button>
      {backups.isPending && <p className="muted">Loading backups…</p>}
      {backups.error && (
        <p className="notice error" role="alert">
          {managerErrorText(backups.error)}
        </p>
      )}
      {backups.data?.length === 0 && <p className="empty">No backups yet.</p>}
      {backups.data && backups.data.length > 0 && (
        <ul className="backups" aria-label="Backups">
          {backups.data.map((b) => (
            <BackupItem key={b.id} backup={b} busy={busy || intoNew.isPending} onRestore={() => act.mutate({ kind: 'restore', backupId: b.id })} onRestoreIntoNew={() => intoNew.mutate(b.id)} />
          ))}
        </ul>
      )}
      <IntoNewProgress state={intoNew} />
    </section>
  );
}

/** A restore into a new instance: in progress (the new instance's state shows under "Your instances"), made, or why not. */
function IntoNewProgress({ state }: { state: { isPending: boolean; isError: boolean; error: unknown; data?: Instance | undefined } }) {
  if (state.isPending) {
    return (
      <p className="notice" role="status" aria-live="polite">
        Restoring into a new instance: provisioning, restoring the backup, starting it…
      </p>
    );
  }
  if (state.isError) {
    return (
      <p className="notice error" role="alert">
        Restore into a new instance failed: {managerErrorText(state.error)}
      </p>
    );
  }
  if (state.data) {
    return (
      <p className="notice success" role="status">
        New instance {state.data.id} is {state.data.state}. Switch to it under "Your instances".
      </p>
    );
  }
  return null;
}

function BackupItem({ backup, busy, onRestore, onRestoreIntoNew }: { backup: Backup; busy: boolean; onRestore: () => void; onRestoreIntoNew: () => void }) {
  const { client } = useManager();
  const download = useMutation({
    mutationFn: () => client.backups.download.query({ instanceId: backup.instanceId, backupId: backup.id }),
    onSuccess: ({ name, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  const label = `${new Date(backup.createdAt).toLocaleString()} (${backup.kind}, ${size(backup.bytes)})`;
  return (
    <li data-backup-id={backup.id}>
      <span>{label}</span>{' '}
      <button type="button" aria-label={`Download backup ${label}`} disabled={download.isPending} onClick={() => download.mutate()}>
        Download
      </button>{' '}
      <ConfirmButton
        label="Restore"
        ariaLabel={`Restore backup ${label}`}
        question="Restore this backup? Conversations and settings since then are replaced."
        confirmLabel="Restore now"
        disabled={busy}
        onConfirm={onRestore}
      />{' '}
      <ConfirmButton
        label="Restore into new instance"
        ariaLabel={`Restore into new instance ${label}`}
        className="subtle"
        question="Make a new instance from this backup? This one keeps running as it is."
        confirmLabel="Make it"
        disabled={busy}
        onConfirm={onRestoreIntoNew}
      />
      {download.isError && (
        <span className="notice error" role="alert">
          {managerErrorText(download.error)}
        </span>
      )}
    </li>
  );
}

function WindowEditor({ window, disabled, onSave }: { window: InstanceRelease['window']; disabled: boolean; onSave: (w: InstanceRelease['window']) => void }) {
  const [start, setStart] = useState(window ? hhmm(window.startMinute) : '03:00');
  const [end, setEnd] = useState(window ? hhmm(window.endMinute) : '05:00');
  const a = minuteOf(start);
  const b = minuteOf(end);
  return (
    <fieldset className="window-editor">
      <legend>Maintenance window (UTC)</legend>
      <p className="muted small">{window ? `Updates arrive between ${hhmm(window.startMinute)} and ${hhmm(window.endMinute)}.` : 'Off: updates only when you choose "Update now".'}</p>
      <label>
        From <input type="time" aria-label="Window start" value={start} onChange={(e) => setStart(e.target.value)} />
      </label>{' '}
      <label>
        to <input type="time" aria-label="Window end" value={end} onChange={(e) => setEnd(e.target.value)} />
      </label>{' '}
      <button type="button" disabled={disabled || a === null || b === null || a === b} onClick={() => onSave({ startMinute: a as number, endMinute: b === 0 ? 1440 : (b as number) })}>
        Save window
      </button>{' '}
      <button type="button" disabled={disabled || window === null} onClick={() => onSave(null)}>
        Turn off
      </button>
    </fieldset>
  );
}
