/** The instance's paired devices as the manager sees them (through the gateway), with revoke. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { queryKeys } from '../../hooks/query-keys';
import { formatTime } from '../../lib/format';
import { managerErrorText } from '../../lib/manager-errors';
import { useManager } from '../../state/manager-context';
import { useServices } from '../../state/services';
import { ConfirmButton } from '../confirm-button';
import { refreshQueries } from '../../lib/refresh-queries';

interface InstanceDevicesProps {
  instanceId: string;
  /** Only a live instance can be asked. */
  live: boolean;
  /** This device's id, when it has a key. */
  thisDeviceId: string | null;
  /** Called after this device itself was revoked. */
  onRevokedSelf: () => void;
}

const ERROR_REFETCH_MS = 5_000;

export function InstanceDevices({ instanceId, live, thisDeviceId, onRevokedSelf }: InstanceDevicesProps) {
  const { client } = useManager();
  const { now } = useServices();
  const queryClient = useQueryClient();
  const key = queryKeys.managerDevices(instanceId);
  // A gateway slow to answer (a busy host) must not leave the list failed for good: while failed, it asks again every 5 s.
  const devices = useQuery({
    queryKey: key,
    queryFn: () => client.instances.devices.query({ instanceId }),
    enabled: live,
    retry: 1,
    refetchInterval: (query) => (query.state.status === 'error' ? ERROR_REFETCH_MS : false),
  });
  const revoke = useMutation({
    mutationFn: (deviceId: string) => client.instances.revokeDevice.mutate({ instanceId, deviceId }),
    onSuccess: (_ok, deviceId) => {
      void refreshQueries(queryClient, key);
      if (deviceId === thisDeviceId) onRevokedSelf();
    },
  });
  const shown = (devices.data ?? []).filter((d) => d.kind === 'client');

  return (
    <section className="settings-section" aria-labelledby="instance-devices-title">
      <h2 id="instance-devices-title">Devices</h2>
      {!live && <p className="muted">Devices can be listed while your assistant runs.</p>}
      {live && devices.isPending && <p className="muted">Loading devices…</p>}
      {live && devices.isError && (
        <p className="notice error" role="alert">
          Could not load devices: {managerErrorText(devices.error)}
        </p>
      )}
      {live && devices.isSuccess && shown.length === 0 && <p className="empty">No devices are paired yet.</p>}
      {live && shown.length > 0 && (
        <ul className="device-list" aria-label="Instance devices">
          {shown.map((device) => {
            const mine = device.id === thisDeviceId;
            return (
              <li key={device.id} className={device.revokedAt ? 'device revoked' : 'device'}>
                <div>
                  <strong>{device.name}</strong>
                  {mine && <span className="badge accent">this device</span>}
                  {device.revokedAt !== null && <span className="badge status-failed">revoked</span>}
                  <div className="muted small">
                    <code>{device.id}</code> · paired {formatTime(device.createdAt, now())}
                    {device.lastSeenAt !== null && <> · last seen {formatTime(device.lastSeenAt, now())}</>}
                  </div>
                </div>
                {device.revokedAt === null && (
                  <ConfirmButton
                    label="Revoke"
                    ariaLabel={`Revoke ${device.name}`}
                    question={mine ? 'Revoke this device? It is disconnected at once.' : `Revoke ${device.name}?`}
                    confirmLabel="Revoke"
                    disabled={revoke.isPending}
                    onConfirm={() => revoke.mutate(device.id)}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
      {revoke.isError && (
        <p className="notice error" role="alert">
          Could not revoke: {managerErrorText(revoke.error)}
        </p>
      )}
    </section>
  );
}
