import type { ChannelName, SettingsView } from '@autoclaw/shared';
import { CHANNEL_GUIDES } from '../lib/channel-guides';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useChannel, useSetChannelEnabled } from '../hooks/use-channels';
import { useServices } from '../state/services';
import { ChannelAccess } from './channel-access';
import { ChannelQr } from './channel-qr';
import { StateBadge, StateHistory } from './channel-state';
import { SecretField, TextField } from './setting-fields';

/** One platform: its true state, set-up help, secrets (write-only), access and history. */
export function ChannelPanel({ name, view }: { name: ChannelName; view: SettingsView }) {
  const { now } = useServices();
  const guide = CHANNEL_GUIDES[name];
  const detail = useChannel(name);
  const toggle = useSetChannelEnabled();

  if (detail.isPending) return <p className="muted">Loading {guide.label}…</p>;
  if (detail.isError) {
    return (
      <div className="notice error" role="alert">
        <p>Could not load {guide.label}: {describeError(detail.error).message}</p>
        <button type="button" onClick={() => void detail.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  const { status, history } = detail.data;
  const field = (f: (typeof guide.fields)[number]) =>
    f.secret ? (
      <SecretField key={f.key} settingKey={f.key} label={f.label} view={view} />
    ) : (
      <TextField key={`${f.key}-${view.values[f.key]?.value ?? ''}`} settingKey={f.key} label={f.label} placeholder={f.placeholder ?? ''} view={view} inputType={f.text ? 'text' : 'url'} />
    );

  return (
    <div className="channel-panel" aria-label={guide.label}>
      <section className="settings-section" aria-labelledby={`${name}-title`}>
        <div className="channel-head">
          <h2 id={`${name}-title`}>{guide.label}</h2>
          <StateBadge status={status} label={guide.label} />
          <button
            type="button"
            className={status.enabled ? 'subtle' : 'primary'}
            disabled={toggle.isPending}
            onClick={() => toggle.mutate({ name, enabled: !status.enabled })}
          >
            {status.enabled ? `Disable ${guide.label}` : `Enable ${guide.label}`}
          </button>
        </div>
        {!status.configured && <p className="hint">Not set up yet: follow the steps below, then enable it.</p>}
        <p className="muted small">
          {status.lastInboundAt !== null ? `Last message ${formatTime(status.lastInboundAt, now())}` : 'No message received yet'}
          {status.lastError !== null && status.state === 'reconnecting' && <> · last error: {status.lastError}</>}
        </p>
        {toggle.isError && (
          <p className="notice error" role="alert">
            {describeError(toggle.error).message}
          </p>
        )}
        {status.qr && <ChannelQr payload={status.qr} label={guide.label} />}
        {status.account && (
          <p className="channel-account">
            Linked as <strong>{status.account}</strong>
          </p>
        )}
      </section>

      <section className="settings-section" aria-labelledby={`${name}-setup`}>
        <h2 id={`${name}-setup`}>Set-up</h2>
        <details open={!status.configured}>
          <summary>How to connect {guide.label}</summary>
          <ol className="channel-steps">
            {guide.steps.map((step) => (
              <li key={step}>{step}</li>
            ))}
          </ol>
        </details>
        <p className="hint">Tokens are stored encrypted on the gateway and never shown again.</p>
        {guide.fields.filter((f) => !f.advanced).map(field)}
        {guide.fields.some((f) => f.advanced) && (
          <details className="channel-advanced">
            <summary>Advanced</summary>
            {guide.fields.filter((f) => f.advanced).map(field)}
          </details>
        )}
      </section>

      <ChannelAccess channel={name} detail={detail.data} view={view} />

      <section className="settings-section" aria-labelledby={`${name}-history`}>
        <h2 id={`${name}-history`}>State history</h2>
        <StateHistory history={history} />
      </section>
    </div>
  );
}
