import { useId, useState, type FormEvent } from 'react';
import { DM_POLICIES, type ChannelDetail, type ChannelName, type DmPolicy, type SettingKey, type SettingsView } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useApprovePairing, useDenyPairing, useRevokeSender } from '../hooks/use-channels';
import { useSetSetting } from '../hooks/use-settings';
import { useServices } from '../state/services';
import { ConfirmButton } from './confirm-button';
import { TextField } from './setting-fields';

const POLICY_TEXT: Record<DmPolicy, string> = {
  pairing: 'Pairing: strangers get a code you approve',
  allowlist: 'Allowlist: only the user ids below',
  open: 'Open: anyone who finds the bot',
};

function PolicyField({ channel, view }: { channel: ChannelName; view: SettingsView }) {
  const id = useId();
  const key = `${channel}.dmPolicy` as SettingKey;
  const current = (view.values[key]?.value ?? 'pairing') as DmPolicy;
  const [value, setValue] = useState<DmPolicy>(current);
  const save = useSetSetting();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ key, value });
  };
  return (
    <form className="setting-field" onSubmit={submit}>
      <label htmlFor={id}>Who may message it</label>
      <span className="setting-status">{POLICY_TEXT[current]}</span>
      <select id={id} value={value} onChange={(e) => setValue(e.target.value as DmPolicy)}>
        {DM_POLICIES.map((p) => (
          <option key={p} value={p}>
            {POLICY_TEXT[p]}
          </option>
        ))}
      </select>
      <button type="submit" className="primary" disabled={save.isPending || value === current} aria-label="Save who may message it">
        Save
      </button>
      {save.isError && (
        <p className="notice error" role="alert">
          {describeError(save.error).message}
        </p>
      )}
    </form>
  );
}

export function ChannelAccess({ channel, detail, view }: { channel: ChannelName; detail: ChannelDetail; view: SettingsView }) {
  const { now } = useServices();
  const approve = useApprovePairing();
  const deny = useDenyPairing();
  const revoke = useRevokeSender();
  const failure = approve.error ?? deny.error ?? revoke.error;
  const allowKey = `${channel}.allowFrom` as SettingKey;
  return (
    <section className="settings-section" aria-labelledby={`${channel}-access`}>
      <h2 id={`${channel}-access`}>Who may talk to it</h2>
      <p className="hint">In groups it answers only when mentioned or replied to, and only to people allowed here.</p>
      <PolicyField key={`policy-${view.values[`${channel}.dmPolicy`]?.value ?? ''}`} channel={channel} view={view} />
      <TextField
        key={`allow-${view.values[allowKey]?.value ?? ''}`}
        settingKey={allowKey}
        label="Allowed user ids (comma-separated)"
        placeholder="123456789, 987654321"
        inputType="text"
        view={view}
      />

      <h3>Waiting for approval</h3>
      {detail.pending.length === 0 ? (
        <p className="empty">Nobody is waiting. A stranger who messages the bot gets a code that shows up here.</p>
      ) : (
        <ul className="channel-people" aria-label="Pending pairings">
          {detail.pending.map((p) => (
            <li key={p.code}>
              <div>
                <strong>{p.senderName || p.senderId}</strong> <span className="muted small">id {p.senderId}</span>
                <div className="small">
                  code <code>{p.code}</code> · expires {formatTime(p.expiresAt, now())}
                </div>
              </div>
              <span className="actions">
                <button type="button" className="primary" disabled={approve.isPending} aria-label={`Approve ${p.senderName || p.senderId}`} onClick={() => approve.mutate({ channel, code: p.code })}>
                  Approve
                </button>
                <button type="button" className="subtle" disabled={deny.isPending} aria-label={`Deny ${p.senderName || p.senderId}`} onClick={() => deny.mutate({ channel, code: p.code })}>
                  Deny
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}

      <h3>Approved</h3>
      {detail.approved.length === 0 ? (
        <p className="empty">No one approved yet.</p>
      ) : (
        <ul className="channel-people" aria-label="Approved senders">
          {detail.approved.map((s) => (
            <li key={s.senderId}>
              <div>
                <strong>{s.senderName || s.senderId}</strong> <span className="muted small">id {s.senderId} · since {formatTime(s.approvedAt, now())}</span>
              </div>
              <ConfirmButton
                label="Revoke"
                ariaLabel={`Revoke ${s.senderName || s.senderId}`}
                question={`Stop answering ${s.senderName || s.senderId}?`}
                confirmLabel="Revoke"
                disabled={revoke.isPending}
                onConfirm={() => revoke.mutate({ channel, senderId: s.senderId })}
              />
            </li>
          ))}
        </ul>
      )}
      {failure && (
        <p className="notice error" role="alert">
          {describeError(failure).message}
        </p>
      )}
    </section>
  );
}
