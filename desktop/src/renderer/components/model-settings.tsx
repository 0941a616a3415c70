import { useState, type FormEvent } from 'react';
import { PRICE_TABLE, formatModelRef, DEFAULT_MODEL, parseModelRef, type SettingsView } from '@autoclaw/shared';
import { useSetSetting } from '../hooks/use-settings';
import { SaveOutcome } from './setting-fields';

const SUGGESTIONS = [...Object.keys(PRICE_TABLE), 'openai-compatible:llama3.1', 'openai-compatible:qwen2.5'];

const SOURCE_TEXT: Record<SettingsView['modelSource'], string> = {
  env: 'from AUTOCLAW_MODEL (environment wins)',
  stored: 'chosen here',
  default: 'default',
  unset: 'default',
};

export function ModelSettings({ view }: { view: SettingsView }) {
  const [value, setValue] = useState(view.model);
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useSetSetting();

  function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const ref = parseModelRef(value.trim());
      setInvalid(null);
      save.mutate({ key: 'model', value: formatModelRef(ref) });
    } catch (error) {
      setInvalid(error instanceof Error ? error.message : String(error));
    }
  }

  return (
    <section className="settings-section" aria-labelledby="model-title">
      <h2 id="model-title">Model</h2>
      <p>
        Current: <code>{view.model}</code> <span className="muted">({SOURCE_TEXT[view.modelSource]})</span>
      </p>
      <form className="setting-field" onSubmit={submit}>
        <label htmlFor="model-input">Model</label>
        <input
          id="model-input"
          list="model-suggestions"
          spellCheck={false}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={invalid !== null}
          aria-describedby="model-help"
        />
        <datalist id="model-suggestions">
          {SUGGESTIONS.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <button type="submit" className="primary" disabled={save.isPending} aria-label="Save model">
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        {view.modelSource === 'stored' && (
          <button type="button" className="subtle" onClick={() => save.mutate({ key: 'model', value: null })}>
            Use default ({formatModelRef(DEFAULT_MODEL)})
          </button>
        )}
        <p id="model-help" className="hint">
          <code>anthropic:NAME</code>, <code>openai:NAME</code> or <code>openai-compatible:NAME</code> (Ollama, llama.cpp, vLLM,
          OpenRouter…). Models missing from the price table still work; their cost shows as “unpriced”.
        </p>
        {invalid && (
          <p className="notice error" role="alert">
            {invalid}
          </p>
        )}
        <SaveOutcome save={save} />
      </form>
    </section>
  );
}
