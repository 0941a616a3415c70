import { useRef, useState, type KeyboardEvent } from 'react';
import type { ChannelName } from '@autoclaw/shared';
import { CHANNEL_GUIDES } from '../lib/channel-guides';
import { describeError } from '../lib/client-error';
import { useChannels } from '../hooks/use-channels';
import { useSettingsView } from '../hooks/use-settings';
import { ChannelPanel } from './channel-panel';

/** The Channels page: every chat app the assistant can be reached from, with true states. */
export function ChannelsPage() {
  const channels = useChannels();
  const settings = useSettingsView();
  const [selected, setSelected] = useState<ChannelName>('telegram');
  const picker = useRef<HTMLDivElement>(null);

  // Arrow keys move between the platforms (one tab stop for the list).
  const onKey = (event: KeyboardEvent) => {
    const names = channels.data?.map((c) => c.name) ?? [];
    const at = names.indexOf(selected);
    const step = event.key === 'ArrowDown' || event.key === 'ArrowRight' ? 1 : event.key === 'ArrowUp' || event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0 || at < 0) return;
    event.preventDefault();
    const next = names[(at + step + names.length) % names.length]!;
    setSelected(next);
    picker.current?.querySelector<HTMLButtonElement>(`[data-channel="${next}"]`)?.focus();
  };

  const failed = channels.error ?? settings.error;
  return (
    <div className="settings channels" aria-label="Channels">
      <h1>Channels</h1>
      <p className="hint">Talk to the same assistant from your chat apps. Each conversation there is a session here.</p>
      {(channels.isPending || settings.isPending) && <p className="muted">Loading channels…</p>}
      {failed && (
        <div className="notice error" role="alert">
          <p>Could not load channels: {describeError(failed).message}</p>
          <button type="button" onClick={() => void Promise.all([channels.refetch(), settings.refetch()])}>
            Try again
          </button>
        </div>
      )}
      {channels.isSuccess && settings.isSuccess && (
        <div className="channels-layout">
          <div className="channel-picker" role="tablist" aria-label="Chat apps" aria-orientation="vertical" ref={picker} onKeyDown={onKey}>
            {channels.data.map((c) => (
              <button
                key={c.name}
                type="button"
                role="tab"
                data-channel={c.name}
                aria-selected={c.name === selected}
                tabIndex={c.name === selected ? 0 : -1}
                onClick={() => setSelected(c.name)}
              >
                <span className={`dot state-${c.state}`} aria-hidden="true" />
                {CHANNEL_GUIDES[c.name].label}
                <span className="visually-hidden"> ({c.state})</span>
              </button>
            ))}
          </div>
          <div role="tabpanel" className="channel-tabpanel">
            <ChannelPanel key={selected} name={selected} view={settings.data} />
          </div>
        </div>
      )}
    </div>
  );
}
