/**
 * Builds `window.autoclaw` from two injected primitives — invoke one of the
 * named channels, and hear main's pushes — so it is plain code tested in
 * Node; preload.ts only plugs in ipcRenderer. Neither primitive is exposed:
 * the page gets named functions with fixed channels, never ipcRenderer.
 */
import type { AutoClawDesktopApi, DeepLink, DesktopPlatform, DesktopUpdateState } from './api';
import { IPC_CHANNELS, type InvokeChannel, type IpcResult, type RendererEvent } from './ipc-channels';

export interface BridgeDeps {
  invoke: (channel: InvokeChannel, ...args: unknown[]) => Promise<unknown>;
  /** Registers the one listener for main's pushes (EVENT_CHANNEL). */
  onPush: (listener: (payload: unknown) => void) => void;
  platform: string;
}

function isResult(value: unknown): value is IpcResult<unknown> {
  return typeof value === 'object' && value !== null && 'ok' in value && typeof value.ok === 'boolean';
}

async function call<T>(deps: BridgeDeps, channel: InvokeChannel, ...args: unknown[]): Promise<T> {
  const result = await deps.invoke(channel, ...args);
  if (!isResult(result)) throw new Error('INTERNAL: malformed answer from the desktop app');
  if (result.ok) return result.value as T;
  throw new Error(`${result.code}: ${result.message}`);
}

function isDeepLink(value: unknown): value is DeepLink {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return false;
  if (value.kind === 'open') return 'sessionId' in value && typeof value.sessionId === 'string';
  return value.kind === 'pair' && 'code' in value && 'ticket' in value && 'instanceId' in value;
}

const UPDATE_KINDS = new Set(['off', 'idle', 'checking', 'up-to-date', 'available', 'downloading', 'ready', 'error']);

function isUpdateState(value: unknown): value is DesktopUpdateState {
  if (typeof value !== 'object' || value === null || !('kind' in value) || typeof value.kind !== 'string' || !UPDATE_KINDS.has(value.kind)) return false;
  return value.kind === 'off' || ('currentVersion' in value && typeof value.currentVersion === 'string');
}

/** Main is trusted, but a push is still checked for shape before it reaches page code. */
function asEvent(payload: unknown): RendererEvent | null {
  if (typeof payload !== 'object' || payload === null || !('type' in payload)) return null;
  if (payload.type === 'sign-out') return { type: 'sign-out' };
  if (payload.type === 'deep-link' && 'link' in payload && isDeepLink(payload.link)) {
    return { type: 'deep-link', link: payload.link };
  }
  if (payload.type === 'update-state' && 'state' in payload && isUpdateState(payload.state)) return { type: 'update-state', state: payload.state };
  return null;
}

function platformOf(platform: string): DesktopPlatform {
  return platform === 'darwin' || platform === 'win32' || platform === 'linux' ? platform : 'other';
}

/** Listeners per event type; events that arrive before any listener wait for the first one. */
function createHub() {
  const links = new Set<(link: DeepLink) => void>();
  const signOuts = new Set<() => void>();
  const updates = new Set<(state: DesktopUpdateState) => void>();
  const waitingLinks: DeepLink[] = [];
  let waitingSignOut = false;

  function deliver(event: RendererEvent): void {
    if (event.type === 'update-state') {
      // Only the newest state matters: nothing waits for a listener.
      for (const listener of updates) listener(event.state);
    } else if (event.type === 'deep-link') {
      if (links.size === 0) waitingLinks.push(event.link);
      for (const listener of links) listener(event.link);
    } else {
      if (signOuts.size === 0) waitingSignOut = true;
      for (const listener of signOuts) listener();
    }
  }

  return {
    deliver,
    onLink(listener: (link: DeepLink) => void): () => void {
      links.add(listener);
      for (const link of waitingLinks.splice(0)) listener(link);
      return () => void links.delete(listener);
    },
    onSignOut(listener: () => void): () => void {
      signOuts.add(listener);
      if (waitingSignOut) {
        waitingSignOut = false;
        listener();
      }
      return () => void signOuts.delete(listener);
    },
    onUpdate(listener: (state: DesktopUpdateState) => void): () => void {
      updates.add(listener);
      return () => void updates.delete(listener);
    },
  };
}

export function createBridgeApi(deps: BridgeDeps): AutoClawDesktopApi {
  const hub = createHub();
  deps.onPush((payload) => {
    const event = asEvent(payload);
    if (event !== null) hub.deliver(event);
  });
  // Tell main we listen; it answers with what waited (e.g. the link that launched the app).
  call<unknown[]>(deps, IPC_CHANNELS.takeEvents)
    .then((events) => {
      for (const payload of events) {
        const event = asEvent(payload);
        if (event !== null) hub.deliver(event);
      }
    })
    .catch(() => undefined);

  return {
    getAppInfo: () => call(deps, IPC_CHANNELS.getAppInfo),
    getDeviceIdentity: () => call(deps, IPC_CHANNELS.getDeviceIdentity),
    signChallenge: (request) =>
      call(deps, IPC_CHANNELS.signChallenge, { nonce: request.nonce, timestamp: request.timestamp }),
    notifyAnswer: (notice) =>
      call(deps, IPC_CHANNELS.notifyAnswer, { sessionId: notice.sessionId, title: notice.title, preview: notice.preview }),
    notifyNotice: (notice) => call(deps, IPC_CHANNELS.notifyNotice, { title: notice.title, body: notice.body, level: notice.level }),
    setUnreadCount: async (count) => {
      await call(deps, IPC_CHANNELS.setUnreadCount, count);
    },
    getTailscaleStatus: () => call(deps, IPC_CHANNELS.getTailscaleStatus),
    openCheckout: async (url) => {
      await call(deps, IPC_CHANNELS.openCheckout, url);
    },
    getUpdateState: () => call(deps, IPC_CHANNELS.updateState),
    checkForUpdates: () => call(deps, IPC_CHANNELS.updateCheck),
    downloadUpdate: () => call(deps, IPC_CHANNELS.updateDownload),
    restartToUpdate: () => call(deps, IPC_CHANNELS.updateRestart),
    onUpdateState: (listener) => hub.onUpdate(listener),
    onDeepLink: (listener) => hub.onLink(listener),
    onSignOutRequest: (listener) => hub.onSignOut(listener),
    platform: platformOf(deps.platform),
  };
}
