import { useId, useState, type FormEvent } from 'react';
import type { SkillView } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { useSkillMutations } from '../hooks/use-skills';

type Secret = SkillView['secrets'][number];
type Setting = SkillView['settings'][number];

/** A skill's secret: write-only (the page only learns whether it is set). */
export function SkillSecretField({ skill, secret }: { skill: string; secret: Secret }) {
  const id = useId();
  const [value, setValue] = useState('');
  const { setSecret } = useSkillMutations();
  const pending = setSecret.isPending && setSecret.variables?.secret === secret.name;
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!value.trim()) return;
    setSecret.mutate({ name: skill, secret: secret.name, value: value.trim() }, { onSuccess: () => setValue('') });
  }
  return (
    <form className="setting-field" onSubmit={submit}>
      <label htmlFor={id}>{secret.label}</label>
      <span className={`setting-status source-${secret.set ? 'stored' : 'unset'}`}>{secret.set ? 'set (stored encrypted)' : 'not set'}</span>
      <input
        id={id}
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder={secret.set ? 'Enter a new value to replace it' : 'Paste it here'}
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <button type="submit" className="primary" disabled={pending || !value.trim()} aria-label={`Save ${secret.label}`}>
        {pending ? 'Saving…' : 'Save'}
      </button>
      {secret.set && (
        <button
          type="button"
          className="danger subtle"
          disabled={pending}
          aria-label={`Remove ${secret.label}`}
          onClick={() => setSecret.mutate({ name: skill, secret: secret.name, value: null })}
        >
          Remove
        </button>
      )}
      {setSecret.isError && setSecret.variables?.secret === secret.name && (
        <p className="notice error" role="alert">
          {describeError(setSecret.error).message}
        </p>
      )}
    </form>
  );
}

/** A skill's setting (an endpoint, an address): shown, editable; empty means the default. */
export function SkillSettingField({ skill, setting }: { skill: string; setting: Setting }) {
  const id = useId();
  const [value, setValue] = useState(setting.value ?? '');
  const { setSetting } = useSkillMutations();
  const mine = setSetting.variables?.setting === setting.name;
  function submit(event: FormEvent) {
    event.preventDefault();
    setSetting.mutate({ name: skill, setting: setting.name, value: value.trim() ? value.trim() : null });
  }
  return (
    <form className="setting-field" onSubmit={submit}>
      <label htmlFor={id}>{setting.label}</label>
      <span className={`setting-status source-${setting.value ? 'stored' : 'default'}`}>{setting.value ? 'set' : setting.default ? 'default' : 'not set'}</span>
      <input id={id} type="text" spellCheck={false} placeholder={setting.default ?? ''} value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="primary" disabled={setSetting.isPending && mine} aria-label={`Save ${setting.label}`}>
        Save
      </button>
      {setSetting.isError && mine && (
        <p className="notice error" role="alert">
          {describeError(setSetting.error).message}
        </p>
      )}
      {setSetting.isSuccess && mine && <p className="notice success">Saved.</p>}
    </form>
  );
}
