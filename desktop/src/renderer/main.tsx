import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './app';
import { ManagerApp } from './components/manager/manager-app';
import { detectAppMode, type AppMode } from './lib/app-mode';
import { browserDeviceKeys, desktopDeviceKeys, type DeviceKeys } from './lib/device-keys';
import { deviceName } from './lib/gateway-http';
import { createMarkdownRenderer } from './lib/markdown';
import { Outbox, newClientId } from './lib/outbox';
import { createNoticeAlerts, storageNoticeCursor } from './lib/notice-alerts';
import { createIndexedDbKeyStore } from './lib/key-store';
import { createChatStore } from './state/chat-store';
import { createUiStore } from './state/ui-store';
import { ServicesProvider, type AppServices } from './state/services';
import './styles/theme.css';
import './styles/layout.css';
import './styles/narrow.css';
import './styles/chat.css';
import './styles/code.css';
import './styles/settings.css';
import './styles/channels.css';
import './styles/pairing.css';
import './styles/manager.css';

const services: AppServices = {
  ui: createUiStore(window.localStorage),
  chats: createChatStore(),
  outbox: new Outbox(window.localStorage),
  markdown: createMarkdownRenderer(window),
  now: () => Date.now(),
  timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
  newClientId: () => newClientId((bytes) => window.crypto.getRandomValues(bytes)),
  alerts: createNoticeAlerts({
    desktop: window.autoclaw,
    browser:
      'Notification' in window
        ? {
            get permission() {
              return window.Notification.permission;
            },
            requestPermission: () => window.Notification.requestPermission(),
            create: (title, options) => void new window.Notification(title, options),
          }
        : null,
    isAway: () => document.visibilityState === 'hidden' || !document.hasFocus(),
  }),
  noticeCursor: storageNoticeCursor(window.localStorage),
};

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 5_000, retry: 2, refetchOnWindowFocus: true },
    mutations: { retry: false },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
const reactRoot = createRoot(root);

function render(node: ReactNode): void {
  reactRoot.render(
    <StrictMode>
      <ServicesProvider services={services}>
        <QueryClientProvider client={queryClient}>{node}</QueryClientProvider>
      </ServicesProvider>
    </StrictMode>,
  );
}

const keyStore = createIndexedDbKeyStore(window.indexedDB);
const subtle = window.isSecureContext ? window.crypto.subtle : null;

/** The device key of the manager UI: the desktop app's (in main) or this browser's. */
function keysLoader(mode: Extract<AppMode, { kind: 'manager' }>): () => Promise<DeviceKeys> {
  let loaded: Promise<DeviceKeys> | null = null;
  return () => {
    loaded ??= mode.desktop
      ? desktopDeviceKeys(mode.desktop)
      : subtle
        ? Promise.resolve(browserDeviceKeys(subtle, keyStore, deviceName(navigator.userAgent)))
        : Promise.reject(new Error('this page needs a secure context (https, or http on localhost/127.0.0.1) to keep a device key'));
    return loaded;
  };
}

function renderMode(mode: AppMode): void {
  switch (mode.kind) {
    case 'webchat':
      render(
        <App
          keyStore={keyStore}
          subtle={subtle}
          pairedStorage={window.localStorage}
          fetch={window.fetch.bind(window)}
          location={window.location}
          userAgent={navigator.userAgent}
        />,
      );
      return;
    case 'manager':
      render(
        <ManagerApp
          managerUrl={mode.managerUrl}
          desktop={mode.desktop}
          loadKeys={keysLoader(mode)}
          storage={window.localStorage}
          location={window.location}
          replacePath={(path) => window.history.replaceState(null, '', path)}
          onStorage={(listener) => {
            const handler = (event: StorageEvent) => listener(event.key);
            window.addEventListener('storage', handler);
            return () => window.removeEventListener('storage', handler);
          }}
          fetch={window.fetch.bind(window)}
          isAway={() => document.visibilityState === 'hidden' || !document.hasFocus()}
        />,
      );
      return;
    case 'unconfigured':
      render(
        <main className="centered">
          <p role="alert">{mode.message}</p>
        </main>,
      );
  }
}

detectAppMode({ desktop: window.autoclaw, fetch: window.fetch.bind(window), origin: window.location.origin }).then(renderMode, (error: unknown) =>
  render(
    <main className="centered">
      <p role="alert">AutoClaw cannot start: {error instanceof Error ? error.message : String(error)}</p>
    </main>,
  ),
);
