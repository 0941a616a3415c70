/**
 * The desktop app updating itself (only inside the app, and only when it
 * was given an update feed): "Check for updates", the download with a
 * progress bar, "Restart to update", and what went wrong. The states come
 * from main (electron-updater) through the desktop bridge.
 */
import { useEffect, useState } from 'react';
import type { AutoClawDesktopApi, DesktopUpdateState } from '../../../preload/api';

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
const text = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function AppUpdate({ desktop }: { desktop: AutoClawDesktopApi }) {
  const [state, setState] = useState<DesktopUpdateState | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);

  useEffect(() => {
    let live = true;
    const off = desktop.onUpdateState((next) => setState(next));
    desktop
      .getUpdateState()
      .then((first) => live && setState((seen) => seen ?? first))
      .catch((err: unknown) => live && setFailure(text(err)));
    return () => {
      live = false;
      off();
    };
  }, [desktop]);

  if (state?.kind === 'off') return null;

  const act = (work: () => Promise<unknown>) => {
    setFailure(null);
    setAsking(true);
    work()
      .then((result) => {
        if (typeof result === 'object' && result !== null && 'kind' in result) setState(result as DesktopUpdateState);
        if (result === false) setFailure('nothing is downloaded yet; check for updates first');
      })
      .catch((err: unknown) => setFailure(text(err)))
      .finally(() => setAsking(false));
  };
  const check = () => act(() => desktop.checkForUpdates());
  const download = () => act(() => desktop.downloadUpdate());
  const busy = asking || state?.kind === 'checking' || state?.kind === 'downloading';

  return (
    <section className="settings-section" aria-labelledby="app-update-title">
      <h2 id="app-update-title">App updates</h2>
      {state === null && !failure && <p className="muted">Reading the app's update state…</p>}
      {state && <p className="muted small">This app: version {state.currentVersion}.</p>}
      <div role="status" aria-label="App update" aria-live="polite">
        {state?.kind === 'checking' && <p>Checking for updates…</p>}
        {state?.kind === 'up-to-date' && <p>You have the latest version.</p>}
        {state?.kind === 'available' && <p>Version {state.version} is available.</p>}
        {state?.kind === 'downloading' && (
          <>
            <p>
              Downloading {state.version}… {state.percent} %{state.total > 0 && <> ({mb(state.transferred)} of {mb(state.total)})</>}
            </p>
            <progress className="app-update-progress" max={100} value={state.percent} aria-label="Download progress" />
          </>
        )}
        {state?.kind === 'ready' && <p>Version {state.version} is downloaded. Restart the app to use it (or it is installed when you next quit).</p>}
      </div>
      {(state?.kind === 'error' || failure) && (
        <p className="notice error" role="alert">
          The update failed: {failure ?? (state?.kind === 'error' ? state.message : '')}
        </p>
      )}
      <p>
        {(state?.kind === 'idle' || state?.kind === 'up-to-date' || state?.kind === 'checking' || (state?.kind === 'error' && !state.version)) && (
          <button type="button" disabled={busy} onClick={check}>
            {state.kind === 'up-to-date' ? 'Check again' : 'Check for updates'}
          </button>
        )}
        {(state?.kind === 'available' || (state?.kind === 'error' && state.version)) && (
          <button type="button" className="primary" disabled={busy} onClick={download}>
            {state.kind === 'error' ? `Try the download of ${state.version} again` : `Download ${state.version}`}
          </button>
        )}
        {state?.kind === 'ready' && (
          <button type="button" className="primary" disabled={busy} onClick={() => act(() => desktop.restartToUpdate())}>
            Restart to update
          </button>
        )}
      </p>
    </section>
  );
}
