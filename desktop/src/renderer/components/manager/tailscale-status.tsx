/**
 * The desktop app's view of this machine's Tailscale (read by main from the
 * local tailscaled): instances are reached over the user's tailnet, so when
 * this device is not on it the app says so and how to join.
 */
import { useQuery } from '@tanstack/react-query';
import { queryKeys } from '../../hooks/query-keys';
import type { AutoClawDesktopApi, TailscaleState } from '../../../preload/api';

const LABEL: Record<TailscaleState, string> = {
  'not-installed': 'Not installed',
  'not-running': 'Not running',
  stopped: 'Stopped',
  'needs-login': 'Needs sign-in',
  'needs-approval': 'Waiting for approval',
  starting: 'Starting',
  running: 'Connected',
  error: 'Error',
};

interface TailscaleStatusProps {
  desktop: AutoClawDesktopApi;
  /** The assistant is published on the tailnet (its address is a MagicDNS name). */
  onTailnet: boolean;
}

export function TailscaleStatus({ desktop, onTailnet }: TailscaleStatusProps) {
  const status = useQuery({
    queryKey: queryKeys.managerTailscale,
    queryFn: () => desktop.getTailscaleStatus(),
    refetchInterval: 30_000,
    retry: false,
  });
  const data = status.data;
  const joined = data?.state === 'running';
  return (
    <section className="settings-section" aria-labelledby="tailscale-title">
      <h2 id="tailscale-title">Private network (Tailscale)</h2>
      {status.isPending && <p className="muted">Checking Tailscale on this computer…</p>}
      {status.isError && (
        <p className="notice error" role="alert">
          Cannot read Tailscale's status: {status.error instanceof Error ? status.error.message : String(status.error)}
        </p>
      )}
      {data && (
        <div className={joined ? 'notice success' : onTailnet ? 'notice warning' : 'notice'} role="status" aria-label="Tailscale">
          <p>
            <strong>{LABEL[data.state]}</strong>
            {data.tailnet && <> · tailnet {data.tailnet}</>}
            {data.deviceName && <> · this device is {data.deviceName}</>}
          </p>
          {!joined && onTailnet && <p>Your assistant is reached over your tailnet, and this device is not on it yet.</p>}
          <p>{data.guidance}</p>
          {data.authUrl && (
            <p>
              <a href={data.authUrl} target="_blank" rel="noopener noreferrer">
                Sign this device in to Tailscale
              </a>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
