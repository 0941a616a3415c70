import { describeError } from '../lib/client-error';
import { useSettingsView } from '../hooks/use-settings';
import { DevicesSection } from './devices-section';
import { MemoriesSection } from './memories-section';
import { ModelSettings } from './model-settings';
import { SecretField, TextField } from './setting-fields';
import { UsageSection } from './usage-section';

export function SettingsPage() {
  const settings = useSettingsView();
  return (
    <div className="settings" aria-label="Settings">
      <h1>Settings</h1>
      {settings.isPending && <p className="muted">Loading settings…</p>}
      {settings.isError && (
        <div className="notice error" role="alert">
          <p>Could not load settings: {describeError(settings.error).message}</p>
          <button type="button" onClick={() => void settings.refetch()}>
            Try again
          </button>
        </div>
      )}
      {settings.isSuccess && (
        <>
          <ModelSettings key={`model-${settings.data.model}`} view={settings.data} />
          <section className="settings-section" aria-labelledby="keys-title">
            <h2 id="keys-title">Provider keys</h2>
            <p className="hint">Keys are stored encrypted on the gateway and never shown again. Environment variables win over stored keys.</p>
            <SecretField settingKey="anthropic.apiKey" label="Anthropic API key" view={settings.data} />
            <SecretField settingKey="openai.apiKey" label="OpenAI API key" view={settings.data} />
            <TextField
              key={`url-${settings.data.values['openaiCompatible.url']?.value ?? ''}`}
              settingKey="openaiCompatible.url"
              label="OpenAI-compatible server URL"
              placeholder="http://127.0.0.1:11434/v1"
              view={settings.data}
            />
            <SecretField settingKey="openaiCompatible.apiKey" label="OpenAI-compatible API key" view={settings.data} />
          </section>
        </>
      )}
      <DevicesSection />
      <UsageSection />
      <MemoriesSection />
    </div>
  );
}
