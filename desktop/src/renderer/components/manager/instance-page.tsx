/** The user's instance: its state (live), controls, this device's pairing, devices and history. */
import type { Instance, InstanceEvent } from '@autoclaw/shared';
import type { AutoClawDesktopApi } from '../../../preload/api';
import type { ManagedPairing } from '../../hooks/use-managed-pairing';
import type { DeviceKeys } from '../../lib/device-keys';
import { isLive, keepAwakeText, stateView } from '../../lib/instance-view';
import { managerErrorText } from '../../lib/manager-errors';
import { InstanceControls } from './instance-controls';
import { InstanceDevices } from './instance-devices';
import { InstanceEvents } from './instance-events';
import { InstanceSwitcher } from './instance-switcher';
import { InstanceUpdates } from './instance-updates';
import { PairingStatus } from './pairing-status';
import { TailscaleStatus } from './tailscale-status';
import { AppUpdate } from './app-update';

export interface InstancePageProps {
  instance: Instance | null | undefined;
  loading: boolean;
  error: unknown;
  creating: boolean;
  onCreate: () => void;
  onDeleted: () => void;
  events: readonly InstanceEvent[];
  pairing: ManagedPairing;
  keys: DeviceKeys | null;
  thisDeviceId: string | null;
  /** The desktop bridge (its Tailscale status is shown), or null in a browser. */
  desktop: AutoClawDesktopApi | null;
}

export function InstancePage(props: InstancePageProps) {
  const { instance } = props;
  return (
    <div className="settings instance-page" aria-label="Instance">
      <h1>Your assistant</h1>
      {props.loading && <p className="muted">Loading your assistant…</p>}
      {props.error != null && (
        <p className="notice error" role="alert">
          {managerErrorText(props.error)}
        </p>
      )}
      {instance === null && (
        <section className="settings-section">
          {props.creating ? (
            <p>Creating your assistant…</p>
          ) : (
            <>
              <p className="empty">You have no assistant right now.</p>
              <button type="button" className="primary" onClick={props.onCreate}>
                Create my assistant
              </button>
            </>
          )}
        </section>
      )}
      {instance && <InstanceDetails {...props} instance={instance} />}
    </div>
  );
}

/** Whether the instance's address is a Tailscale MagicDNS name. */
function onTailnet(url: string | null): boolean {
  if (url === null) return false;
  try {
    return new URL(url).hostname.endsWith('.ts.net');
  } catch {
    return false;
  }
}

function InstanceDetails({ instance, events, pairing, keys, thisDeviceId, onDeleted, desktop }: InstancePageProps & { instance: Instance }) {
  const view = stateView(instance.state);
  const live = isLive(instance.state);
  const awakeFor = live ? keepAwakeText(instance.keepAwake) : null;
  return (
    <>
      <section className="settings-section instance-status" aria-labelledby="instance-state-title">
        <h2 id="instance-state-title" className="visually-hidden">
          State
        </h2>
        <p>
          <span role="status" aria-label="Instance state" className={`badge state state-${view.tone}`} data-state={instance.state}>
            {view.label}
          </span>{' '}
          {view.text}
        </p>
        {awakeFor && (
          <p className="muted small" aria-label="Why it stays awake">
            {awakeFor}
          </p>
        )}
        {instance.state === 'failed' && instance.lastError && (
          <pre className="log-lines" aria-label="Last log lines">
            {instance.lastError}
          </pre>
        )}
        <p className="muted small">
          {instance.restarts > 0 && <>Restarted by the supervisor {instance.restarts} time{instance.restarts === 1 ? '' : 's'}. </>}
          {instance.url && live && <>Reachable at {instance.url}.</>}
        </p>
        <InstanceControls instance={instance} onDeleted={onDeleted} />
      </section>
      <InstanceSwitcher current={instance} />
      <PairingStatus pairing={pairing} storage={keys?.storage ?? null} live={live} />
      {desktop && <TailscaleStatus desktop={desktop} onTailnet={onTailnet(pairing.phase.kind === 'paired' ? pairing.phase.record.gatewayUrl : instance.url)} />}
      <InstanceDevices instanceId={instance.id} live={live} thisDeviceId={thisDeviceId} onRevokedSelf={pairing.refused} />
      <InstanceUpdates instance={instance} events={events} />
      {desktop && <AppUpdate desktop={desktop} />}
      <InstanceEvents events={events} />
    </>
  );
}
