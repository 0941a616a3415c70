import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { connectGateway, type ConnectionStatus, type GatewayClient } from '../lib/gateway-connection';
import type { DeviceIdentity } from '../lib/device-identity';

interface GatewayValue {
  client: GatewayClient;
  status: ConnectionStatus;
}

const GatewayContext = createContext<GatewayValue | null>(null);

interface GatewayProviderProps {
  identity: DeviceIdentity;
  socketUrl: string;
  fetch: typeof fetch;
  now: () => number;
  /** The gateway does not know this device (revoked or never paired). */
  onUnauthorized: () => void;
  children: ReactNode;
}

/** Owns the one authenticated connection while the device is paired. */
export function GatewayProvider({ identity, socketUrl, fetch, now, onUnauthorized, children }: GatewayProviderProps) {
  const [value, setValue] = useState<GatewayValue | null>(null);

  useEffect(() => {
    let live = true;
    const connection = connectGateway({
      url: socketUrl,
      identity,
      fetch,
      now,
      onStatus: (status) => {
        if (!live) return;
        setValue((v) => (v ? { ...v, status } : v));
        if (status === 'unauthorized') onUnauthorized();
      },
    });
    setValue({ client: connection.client, status: 'connecting' });
    return () => {
      live = false;
      void connection.close();
    };
  }, [identity, socketUrl, fetch, now, onUnauthorized]);

  if (!value) return null;
  return <GatewayContext.Provider value={value}>{children}</GatewayContext.Provider>;
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
