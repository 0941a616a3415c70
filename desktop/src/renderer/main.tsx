import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './app';
import { createMarkdownRenderer } from './lib/markdown';
import { Outbox, newClientId } from './lib/outbox';
import { createIndexedDbKeyStore } from './lib/key-store';
import { createChatStore } from './state/chat-store';
import { createUiStore } from './state/ui-store';
import { ServicesProvider, type AppServices } from './state/services';
import './styles/theme.css';
import './styles/layout.css';
import './styles/chat.css';
import './styles/code.css';
import './styles/settings.css';
import './styles/pairing.css';

const services: AppServices = {
  ui: createUiStore(window.localStorage),
  chats: createChatStore(),
  outbox: new Outbox(window.localStorage),
  markdown: createMarkdownRenderer(window),
  now: () => Date.now(),
  newClientId: () => newClientId((bytes) => window.crypto.getRandomValues(bytes)),
};

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 5_000, retry: 2, refetchOnWindowFocus: true },
    mutations: { retry: false },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');

createRoot(root).render(
  <StrictMode>
    <ServicesProvider services={services}>
      <QueryClientProvider client={queryClient}>
        <App
          keyStore={createIndexedDbKeyStore(window.indexedDB)}
          subtle={window.isSecureContext ? window.crypto.subtle : null}
          pairedStorage={window.localStorage}
          fetch={window.fetch.bind(window)}
          location={window.location}
          userAgent={navigator.userAgent}
        />
      </QueryClientProvider>
    </ServicesProvider>
  </StrictMode>,
);
