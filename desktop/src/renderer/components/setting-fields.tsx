import { useId, useState, type FormEvent } from 'react';
import type { SettingKey, SettingsView } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { useSetSetting } from '../hooks/use-settings';

type Source = SettingsView['values'][string]['source'];

function secretStatus(source: Source | undefined): string {
  if (source === 'env') return 'set (from environment)';
  if (source === 'stored') return 'set';
  return 'not set';
}

interface FieldProps {
  settingKey: SettingKey;
  label: string;
  view: SettingsView;
}

/** A secret is write-only: the page never sees it, only whether and where it is set. */
/** What came of the last save: the error, or "Saved.". */
export function SaveOutcome({ save }: { save: { isError: boolean; isSuccess: boolean; error: unknown } }) {
  if (save.isError) {
    return (
      <p className="notice error" role="alert">
        {describeError(save.error).message}
      </p>
    );
  }
  return save.isSuccess ? <p className="notice success">Saved.</p> : null;
}

export function SecretField({ settingKey, label, view }: FieldProps) {
  const id = useId();
  const [value, setValue] = useState('');
  const save = useSetSetting();
  const source = view.values[settingKey]?.source;
  const status = secretStatus(source);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!value.trim()) return;
    save.mutate({ key: settingKey, value: value.trim() }, { onSuccess: () => setValue('') });
  }

  return (
    <form className="setting-field" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <span className={`setting-status source-${source ?? 'unset'}`} data-testid={`status-${settingKey}`}>
        {status}
      </span>
      <input
        id={id}
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder={source === 'unset' || source === undefined ? 'Paste the key' : 'Enter a new key to replace it'}
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <button type="submit" className="primary" disabled={save.isPending || !value.trim()} aria-label={`Save ${label}`}>
        {save.isPending ? 'Saving…' : 'Save'}
      </button>
      {source === 'stored' && (
        <button type="button" className="danger subtle" disabled={save.isPending} aria-label={`Remove ${label}`} onClick={() => save.mutate({ key: settingKey, value: null })}>
          Remove
        </button>
      )}
      {source === 'env' && <p className="hint">The environment variable wins over a key stored here.</p>}
      <SaveOutcome save={save} />
    </form>
  );
}

/**
 * An endpoint (a server URL) and the key that goes with it, saved together:
 * the gateway clears a stored key when its endpoint changes, so a key entered
 * for one server never reaches another.
 */
export function EndpointField({ settingKey, keyKey, label, view, placeholder }: FieldProps & { keyKey: SettingKey; placeholder: string }) {
  const id = useId();
  const keyId = useId();
  const current = view.values[settingKey];
  const [value, setValue] = useState(current?.value ?? '');
  const [apiKey, setApiKey] = useState('');
  const save = useSetSetting();
  const keyStored = view.values[keyKey]?.source === 'stored';
  const changing = (value.trim() || null) !== (current?.value ?? null);

  function submit(event: FormEvent) {
    event.preventDefault();
    const input = { key: settingKey, value: value.trim() ? value.trim() : null };
    save.mutate(apiKey.trim() ? { ...input, apiKey: apiKey.trim() } : input, { onSuccess: () => setApiKey('') });
  }

  return (
    <form className="setting-field" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <span className={`setting-status source-${current?.source ?? 'unset'}`}>
        {current?.source === 'env' ? 'from environment' : current?.value ? 'set' : 'not set'}
      </span>
      <input id={id} type="url" spellCheck={false} placeholder={placeholder} value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="primary" disabled={save.isPending} aria-label={`Save ${label}`}>
        {save.isPending ? 'Saving…' : 'Save'}
      </button>
      <label htmlFor={keyId} className="visually-hidden">
        API key for this server
      </label>
      <input
        id={keyId}
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="API key for this server (optional)"
        value={apiKey}
        onChange={(e) => setApiKey(e.target.value)}
      />
      {changing && keyStored && !apiKey.trim() && (
        <p className="hint" role="note">
          Saving another server clears the key stored for this one; enter the key for the new server here to keep one.
        </p>
      )}
      <SaveOutcome save={save} />
    </form>
  );
}

/** A plain setting (URLs, lists): shows its value and where it comes from. */
export function TextField({ settingKey, label, view, placeholder, inputType = 'url' }: FieldProps & { placeholder: string; inputType?: 'url' | 'text' }) {
  const id = useId();
  const current = view.values[settingKey];
  const [value, setValue] = useState(current?.value ?? '');
  const save = useSetSetting();

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ key: settingKey, value: value.trim() ? value.trim() : null });
  }

  return (
    <form className="setting-field" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <span className={`setting-status source-${current?.source ?? 'unset'}`}>
        {current?.source === 'env' ? 'from environment' : current?.value ? 'set' : 'not set'}
      </span>
      <input id={id} type={inputType} spellCheck={false} placeholder={placeholder} value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="primary" disabled={save.isPending} aria-label={`Save ${label}`}>
        {save.isPending ? 'Saving…' : 'Save'}
      </button>
      <SaveOutcome save={save} />
    </form>
  );
}
