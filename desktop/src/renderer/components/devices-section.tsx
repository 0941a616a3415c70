import type { Device } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useDevices, useRevokeDevice, useSetDeviceRole } from '../hooks/use-settings';
import { useServices } from '../state/services';
import { ConfirmButton } from './confirm-button';

const ROLE_TEXT: Record<Device['role'], string> = { owner: 'owner', chat: 'chat only' };

/** Paired devices. An owner device may revoke any and change a client's role; a chat device only unpairs itself. */
export function DevicesSection({ isOwner }: { isOwner: boolean }) {
  const { now } = useServices();
  const devices = useDevices();
  const revoke = useRevokeDevice();
  const setRole = useSetDeviceRole();
  return (
    <section className="settings-section" aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      {!isOwner && <p className="hint">Only the owner's devices can revoke other devices or change their role; this device can unpair itself.</p>}
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
                <strong>{device.name}</strong> <span className="badge">{device.kind}</span>{' '}
                <span className={device.role === 'owner' ? 'badge accent' : 'badge'}>{ROLE_TEXT[device.role]}</span>
                {device.current && <span className="badge accent">this browser</span>}
                {device.revokedAt !== null && <span className="badge status-failed">revoked</span>}
                <div className="muted small">
                  <code>{device.id}</code> · paired {formatTime(device.createdAt, now())}
                  {device.lastSeenAt !== null && <> · last seen {formatTime(device.lastSeenAt, now())}</>}
                </div>
              </div>
              {isOwner && device.kind === 'client' && device.revokedAt === null && !device.current && (
                <button
                  type="button"
                  className="subtle"
                  disabled={setRole.isPending}
                  aria-label={device.role === 'owner' ? `Make ${device.name} chat only` : `Make ${device.name} an owner`}
                  onClick={() => setRole.mutate({ deviceId: device.id, role: device.role === 'owner' ? 'chat' : 'owner' })}
                >
                  {device.role === 'owner' ? 'Make chat only' : 'Make owner'}
                </button>
              )}
              {device.revokedAt === null && (isOwner || device.current) && (
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
      {setRole.isError && (
        <p className="notice error" role="alert">
          Could not change the role: {describeError(setRole.error).message}
        </p>
      )}
    </section>
  );
}
