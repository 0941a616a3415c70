import { useSettingsView, useWhoAmI } from '../hooks/use-settings';
import { AuditSection } from './audit-section';
import { LoadError } from './load-error';
import { DevicesSection } from './devices-section';
import { MemoriesSection } from './memories-section';
import { ModelSettings } from './model-settings';
import { EndpointField, SecretField } from './setting-fields';
import { UsageSection } from './usage-section';

export function SettingsPage() {
  const settings = useSettingsView();
  const me = useWhoAmI();
  // Until the gateway says otherwise the controls stay enabled; it refuses a chat device anyway.
  const chatOnly = me.data?.role === 'chat';
  return (
    <div className="settings" aria-label="Settings">
      <h1>Settings</h1>
      {chatOnly && (
        <p className="notice" role="note" aria-label="Chat-only device">
          This device is paired for chat only: it can chat, see conversations and approve tool calls, but the model, provider keys and
          other devices can only be changed from one of the owner's devices (or with <code>autoclaw devices role</code>).
        </p>
      )}
      {settings.isPending && <p className="muted">Loading settings…</p>}
      {settings.isError && <LoadError what="settings" error={settings.error} retry={settings.refetch} />}
      {settings.isSuccess && (
        <fieldset className="owner-only" disabled={chatOnly} aria-label="Owner settings">
          <ModelSettings key={`model-${settings.data.model}`} view={settings.data} />
          <section className="settings-section" aria-labelledby="keys-title">
            <h2 id="keys-title">Provider keys</h2>
            <p className="hint">
              Keys are stored encrypted on the gateway and never shown again. Environment variables win over stored keys; a key is only
              sent to the server it was entered for.
            </p>
            <SecretField settingKey="anthropic.apiKey" label="Anthropic API key" view={settings.data} />
            <SecretField settingKey="openai.apiKey" label="OpenAI API key" view={settings.data} />
            <EndpointField
              key={`url-${settings.data.values['openaiCompatible.url']?.value ?? ''}`}
              settingKey="openaiCompatible.url"
              keyKey="openaiCompatible.apiKey"
              label="OpenAI-compatible server URL"
              placeholder="http://127.0.0.1:11434/v1"
              view={settings.data}
            />
            <SecretField settingKey="openaiCompatible.apiKey" label="OpenAI-compatible API key" view={settings.data} />
          </section>
        </fieldset>
      )}
      <DevicesSection isOwner={!chatOnly} />
      {me.data?.role === 'owner' && <AuditSection />}
      <UsageSection />
      <MemoriesSection />
    </div>
  );
}
