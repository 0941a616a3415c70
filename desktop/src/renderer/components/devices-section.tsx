import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useDevices, useRevokeDevice } from '../hooks/use-settings';
import { useServices } from '../state/services';
import { ConfirmButton } from './confirm-button';

export function DevicesSection() {
  const { now } = useServices();
  const devices = useDevices();
  const revoke = useRevokeDevice();
  return (
    <section className="settings-section" aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      {devices.isPending && <p className="muted">Loading devices…</p>}
      {devices.isError && (
        <p className="notice error" role="alert">
          Could not load devices: {describeError(devices.error).message}
        </p>
      )}
      {devices.isSuccess && devices.data.length === 0 && <p className="empty">No devices are paired.</p>}
      {devices.isSuccess && devices.data.length > 0 && (
        <ul className="device-list" aria-label="Paired devices">
          {devices.data.map((device) => (
            <li key={device.id} className={device.revokedAt ? 'device revoked' : 'device'}>
              <div>
                <strong>{device.name}</strong> <span className="badge">{device.kind}</span>
                {device.current && <span className="badge accent">this browser</span>}
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
                  question={device.current ? 'Revoke this browser? You will have to pair it again.' : `Revoke ${device.name}?`}
                  confirmLabel="Revoke"
                  disabled={revoke.isPending}
                  onConfirm={() => revoke.mutate(device.id)}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {revoke.isError && (
        <p className="notice error" role="alert">
          Could not revoke: {describeError(revoke.error).message}
        </p>
      )}
    </section>
  );
}
