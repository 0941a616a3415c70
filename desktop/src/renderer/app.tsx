import { useCallback, useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { loadIdentity, type DeviceIdentity } from './lib/device-identity';
import { gatewaySocketUrl, type PageLocation } from './lib/gateway-url';
import type { KeyStore } from './lib/key-store';
import type { KeyValueStorage } from './lib/outbox';
import { GatewayProvider } from './state/gateway-context';
import { useServices } from './state/services';
import { useThemeAttribute } from './hooks/use-theme';
import { PairingScreen } from './components/pairing-screen';
import { Workspace } from './components/workspace';

const PAIRED_KEY = 'autoclaw.pairedDevice';

type Phase =
  | { kind: 'loading' }
  | { kind: 'unsupported'; message: string }
  | { kind: 'unpaired'; reason: string | null }
  | { kind: 'paired'; identity: DeviceIdentity };

interface AppProps {
  keyStore: KeyStore;
  /** null outside a secure context (WebCrypto is unavailable there). */
  subtle: SubtleCrypto | null;
  pairedStorage: KeyValueStorage & Pick<Storage, 'removeItem'>;
  fetch: typeof fetch;
  location: PageLocation;
  userAgent: string;
}

export function App({ keyStore, subtle, pairedStorage, fetch, location, userAgent }: AppProps) {
  const { now, chats } = useServices();
  const queryClient = useQueryClient();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  useThemeAttribute();

  useEffect(() => {
    if (!subtle) {
      setPhase({
        kind: 'unsupported',
        message: 'This page needs a secure context (https, or http on localhost/127.0.0.1) to keep a device key.',
      });
      return;
    }
    let live = true;
    loadIdentity(subtle, keyStore)
      .then((identity) => {
        if (!live) return;
        const paired = identity !== null && pairedStorage.getItem(PAIRED_KEY) === identity.deviceId;
        setPhase(paired ? { kind: 'paired', identity } : { kind: 'unpaired', reason: null });
      })
      .catch((error: unknown) => {
        if (live) setPhase({ kind: 'unsupported', message: `Cannot load the device key: ${String(error)}` });
      });
    return () => {
      live = false;
    };
  }, [subtle, keyStore, pairedStorage]);

  const onPaired = useCallback(
    (identity: DeviceIdentity) => {
      pairedStorage.setItem(PAIRED_KEY, identity.deviceId);
      setPhase({ kind: 'paired', identity });
    },
    [pairedStorage],
  );

  const onUnauthorized = useCallback(() => {
    // A revoked key stays revoked: drop it so pairing again makes a new one.
    pairedStorage.removeItem(PAIRED_KEY);
    queryClient.clear();
    for (const id of Object.keys(chats.getState().chats)) chats.getState().forget(id);
    void keyStore.clear().finally(() =>
      setPhase({
        kind: 'unpaired',
        reason: 'The gateway does not recognise this browser any more (it was revoked or the gateway was reset). Pair it again.',
      }),
    );
  }, [pairedStorage, keyStore, queryClient, chats]);

  switch (phase.kind) {
    case 'loading':
      return (
        <main className="centered" aria-busy="true">
          <p>Loading…</p>
        </main>
      );
    case 'unsupported':
      return (
        <main className="centered">
          <p role="alert">{phase.message}</p>
        </main>
      );
    case 'unpaired':
      return subtle ? (
        <PairingScreen
          subtle={subtle}
          keyStore={keyStore}
          fetch={fetch}
          now={now}
          userAgent={userAgent}
          reason={phase.reason}
          onPaired={onPaired}
        />
      ) : null;
    case 'paired':
      return (
        <GatewayProvider identity={phase.identity} socketUrl={gatewaySocketUrl(location)} fetch={fetch} now={now} onUnauthorized={onUnauthorized}>
          <Workspace />
        </GatewayProvider>
      );
  }
}
