import { useEffect, useState } from 'react';
import type { SkillView } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { useOAuthConnect, useSkillMutations } from '../hooks/use-skills';
import { SkillSecretField, SkillSettingField } from './skill-fields';

const STATE_LABEL: Record<SkillView['state'], string> = { enabled: 'enabled', disabled: 'off', refused: 'refused' };

/** What the skill may touch, in words. */
function Permissions({ skill }: { skill: SkillView }) {
  const p = skill.permissions;
  const risky = skill.tools.filter((t) => t.risky);
  const items: Array<[string, string]> = [];
  if (p.hosts.length > 0) items.push(['Network', p.hosts.map((h) => (h === '*' ? 'any public website' : h)).join(', ')]);
  else items.push(['Network', 'none']);
  items.push(['Files', p.files ? `${p.files.scope === '.' ? 'the whole workspace' : `workspace/${p.files.scope}`} (${p.files.access === 'read' ? 'read only' : 'read and write'})` : 'none']);
  if (skill.secrets.length > 0) items.push(['Secrets', skill.secrets.map((s) => s.label).join(', ')]);
  if (p.processes.length > 0) items.push(['Programs', p.processes.join(', ')]);
  if (p.exec) items.push(['Commands', 'runs commands in your workspace, asking you every time']);
  if (p.index) items.push(['Search', 'adds to and searches your notes index']);
  items.push(['Asks first', risky.length > 0 ? risky.map((t) => `${t.name}${t.everyCall ? ' (every time)' : ''}`).join(', ') : 'nothing']);
  return (
    <dl className="skill-permissions" aria-label={`What ${skill.name} may do`}>
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function AccountSection({ skill }: { skill: SkillView }) {
  const connect = useOAuthConnect(skill.name);
  if (!skill.oauth) return null;
  const connected = skill.oauth.connected;
  return (
    <div className="setting-field skill-account">
      <span className="skill-account-label">Google account</span>
      <span className={`setting-status source-${connected ? 'stored' : 'unset'}`} role="status">
        {connected ? 'connected' : connect.waiting ? 'waiting for you to finish signing in…' : 'not connected'}
      </span>
      {!connected && (
        <button type="button" className="primary" disabled={connect.starting} onClick={() => connect.start()} aria-label={`Connect Google account to ${skill.name}`}>
          {connect.waiting ? 'Open sign-in again' : 'Connect Google account'}
        </button>
      )}
      {connected && (
        <button type="button" className="danger subtle" onClick={() => connect.disconnect()} aria-label={`Disconnect Google account from ${skill.name}`}>
          Disconnect
        </button>
      )}
      {connect.authUrl && !connected && (
        <p className="hint">
          If no window opened, <a href={connect.authUrl} target="_blank" rel="noopener noreferrer">open the Google sign-in</a>.
        </p>
      )}
      {connect.error && (
        <p className="notice error" role="alert">
          {connect.error}
        </p>
      )}
    </div>
  );
}

export function SkillCard({ skill }: { skill: SkillView }) {
  const { toggle } = useSkillMutations();
  const [open, setOpen] = useState(false);
  const busy = toggle.isPending && toggle.variables?.name === skill.name;
  // Shown as asked at once; the answer (or an error) settles it.
  const on = busy ? toggle.variables.enabled : skill.state === 'enabled';
  const titleId = `skill-${skill.name}`;
  // A skill that was just enabled opens so its settings are at hand.
  useEffect(() => {
    if (toggle.isSuccess && toggle.variables?.name === skill.name && toggle.variables.enabled) setOpen(true);
  }, [toggle.isSuccess, toggle.variables, skill.name]);
  return (
    <section className={`settings-section skill-card state-${skill.state}`} aria-labelledby={titleId} data-skill={skill.name}>
      <div className="skill-head">
        <h2 id={titleId}>
          {skill.name}
          {skill.version && <span className="muted small"> {skill.version}</span>}
        </h2>
        <span className={`badge skill-state state-${skill.state}`}>{STATE_LABEL[skill.state]}</span>
        {skill.state !== 'refused' && (
          <label className="switch">
            <input
              type="checkbox"
              role="switch"
              checked={on}
              disabled={busy}
              aria-label={`Enable ${skill.name}`}
              onChange={(e) => toggle.mutate({ name: skill.name, enabled: e.target.checked })}
            />
            <span>{on ? 'On' : 'Off'}</span>
          </label>
        )}
      </div>
      {skill.description && <p className="skill-description">{skill.description}</p>}
      {skill.state === 'refused' && (
        <p className="notice error" role="alert">
          Refused, not loaded: {skill.reason}
        </p>
      )}
      {toggle.isError && toggle.variables?.name === skill.name && (
        <p className="notice error" role="alert">
          {describeError(toggle.error).message}
        </p>
      )}
      <Permissions skill={skill} />
      {skill.state !== 'refused' && (skill.secrets.length > 0 || skill.settings.length > 0 || skill.oauth || skill.tools.length > 0) && (
        <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
          <summary>Settings and tools</summary>
          <AccountSection skill={skill} />
          {skill.secrets.map((s) => (
            <SkillSecretField key={s.name} skill={skill.name} secret={s} />
          ))}
          {skill.settings.map((s) => (
            <SkillSettingField key={`${s.name}:${s.value ?? ''}`} skill={skill.name} setting={s} />
          ))}
          <ul className="skill-tools" aria-label={`Tools of ${skill.name}`}>
            {skill.tools.map((t) => (
              <li key={t.name}>
                <code>{t.name}</code> {t.risky && <span className="badge warning">{t.everyCall ? 'asks every time' : 'asks first'}</span>} <span className="muted">{t.description}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
