import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { connectGateway, type ConnectionStatus, type GatewayClient } from '../lib/gateway-connection';
import type { DeviceIdentity } from '../lib/device-identity';

interface GatewayValue {
  client: GatewayClient;
  status: ConnectionStatus;
  /** Why, for wake_failed and refused. */
  detail: string | null;
  /** The instance is asleep or starting: the door holds the connection while it wakes. */
  waking: boolean;
}

const GatewayContext = createContext<GatewayValue | null>(null);

interface GatewayProviderProps {
  identity: DeviceIdentity;
  socketUrl: string | (() => Promise<string>);
  /** The manager says the instance is asleep or starting (managed app only). */
  waking?: boolean;
  fetch: typeof fetch;
  now: () => number;
  /** The gateway does not know this device (revoked or never paired). */
  onUnauthorized: () => void;
  children: ReactNode;
}

/** Owns the one authenticated connection while the device is paired. */
export function GatewayProvider({ identity, socketUrl, waking = false, fetch, now, onUnauthorized, children }: GatewayProviderProps) {
  const [value, setValue] = useState<GatewayValue | null>(null);

  useEffect(() => {
    let live = true;
    const connection = connectGateway({
      url: socketUrl,
      identity,
      fetch,
      now,
      onStatus: (status, detail) => {
        if (!live) return;
        setValue((v) => (v ? { ...v, status, detail: detail ?? null } : v));
        if (status === 'unauthorized') onUnauthorized();
      },
    });
    setValue({ client: connection.client, status: 'connecting', detail: null, waking: false });
    return () => {
      live = false;
      void connection.close();
    };
  }, [identity, socketUrl, fetch, now, onUnauthorized]);

  const shown = useMemo(() => (value && value.waking !== waking ? { ...value, waking } : value), [value, waking]);
  if (!shown) return null;
  return <GatewayContext.Provider value={shown}>{children}</GatewayContext.Provider>;
}

function useGatewayValue(): GatewayValue {
  const value = useContext(GatewayContext);
  if (!value) throw new Error('useGateway outside GatewayProvider');
  return value;
}

export function useGateway(): GatewayClient {
  return useGatewayValue().client;
}

export function useConnectionStatus(): ConnectionStatus {
  return useGatewayValue().status;
}

/** The connection's status with its reason, and whether the instance is waking (for the banner). */
export function useConnectionDetail(): { status: ConnectionStatus; detail: string | null; waking: boolean } {
  const { status, detail, waking } = useGatewayValue();
  return { status, detail, waking };
}
