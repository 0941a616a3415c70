/**
 * The signed-in manager UI: the instance page until this device is paired,
 * then the chat (the same Workspace as WebChat) connected to the instance
 * through the manager's one door (`/i/<id>`, a door pass at each connect),
 * with the instance page as a third view. The chat's reconnect logic
 * carries it through instance restarts and sleeps (the door wakes it).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { AutoClawDesktopApi } from '../../../preload/api';
import { isGatewayQuery, queryKeys } from '../../hooks/query-keys';
import { useAnswerNotifications, useDeepLinks, useSignOutRequests } from '../../hooks/use-desktop-bridge';
import { useManagedPairing } from '../../hooks/use-managed-pairing';
import { useInstanceEvents, useMyInstance } from '../../hooks/use-my-instance';
import type { DeviceKeys } from '../../lib/device-keys';
import type { PairingRecordStore } from '../../lib/pairing-record';
import { createDoorPasses } from '../../lib/door-pass';
import { fetchAt, socketUrlOf, withDoorPass } from '../../lib/service-url';
import { GatewayProvider } from '../../state/gateway-context';
import { useManager } from '../../state/manager-context';
import { useServices, useUi } from '../../state/services';
import { AppHeader } from '../app-header';
import { Workspace } from '../workspace';
import { AccountMenu } from './account-menu';
import { BillingPage } from './billing-page';
import { InstancePage } from './instance-page';
import { refreshQueries } from '../../lib/refresh-queries';

interface SignedInAppProps {
  desktop: AutoClawDesktopApi | null;
  loadKeys: () => Promise<DeviceKeys>;
  records: PairingRecordStore;
  fetch: typeof fetch;
  /** The window is hidden or unfocused (answers then notify). */
  isAway: () => boolean;
}

const UNPAIRED_VIEWS = [
  { view: 'instance', label: 'Instance' },
  { view: 'billing', label: 'Billing' },
] as const;

export function SignedInApp({ desktop, loadKeys, records, fetch, isAway }: SignedInAppProps) {
  const { client, signOut, managerUrl } = useManager();
  const { now, ui, chats, outbox } = useServices();
  const view = useUi((s) => s.view);
  const queryClient = useQueryClient();
  const mine = useMyInstance();
  const instance = mine.instance;
  const events = useInstanceEvents(instance?.id ?? null);

  const [keys, setKeys] = useState<DeviceKeys | null>(null);
  const [keysError, setKeysError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadKeys().then(
      (loaded) => live && setKeys(loaded),
      (error: unknown) => live && setKeysError(`Cannot load this device's key: ${error instanceof Error ? error.message : String(error)}`),
    );
    return () => {
      live = false;
    };
  }, [loadKeys]);

  // Back from Stripe Checkout (its return URL carries ?checkout=done): the Billing page shows the outcome.
  const fromCheckout = useMemo(() => new URLSearchParams(window.location.search).has('checkout'), []);
  useEffect(() => {
    if (fromCheckout) ui.getState().setView('billing');
  }, [fromCheckout, ui]);

  const passId = instance?.id ?? null;
  const passes = useMemo(
    () => createDoorPasses(() => (passId === null ? Promise.reject(new Error('no instance')) : client.instances.doorPass.mutate({ instanceId: passId })), now),
    [client, passId, now],
  );
  const pairing = useManagedPairing({ client, managerUrl, passes, instance, keys, records, fetch, now });
  const phase = pairing.phase;
  const paired = phase.kind === 'paired' ? phase : null;

  // Show the chat once this device got paired in this visit.
  const [wasPaired, setWasPaired] = useState(paired !== null);
  useEffect(() => {
    if (paired && !wasPaired) {
      setWasPaired(true);
      if (!fromCheckout) ui.getState().setView('chat');
      void refreshQueries(queryClient, queryKeys.managerDevicesAll);
    } else if (!paired && wasPaired) {
      setWasPaired(false);
    }
  }, [paired, wasPaired, ui, queryClient, fromCheckout]);

  // Another instance (deleted and made anew): what the page knew of the old one's chats goes.
  const shownInstance = useRef<string | null>(null);
  const instanceId = instance?.id ?? null;
  useEffect(() => {
    if (instance === undefined) return;
    const previous = shownInstance.current;
    shownInstance.current = instanceId;
    if (previous === null || previous === instanceId) return;
    queryClient.removeQueries({ predicate: (q) => isGatewayQuery(q.queryKey) });
    for (const id of Object.keys(chats.getState().chats)) chats.getState().forget(id);
    for (const item of outbox.items()) outbox.remove(item.clientId);
    ui.getState().selectSession(null);
    ui.getState().setView('instance');
  }, [instance, instanceId, queryClient, chats, outbox, ui]);

  // This device's id even when it is not paired (to mark it in the devices list).
  const [knownDeviceId, setKnownDeviceId] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    keys?.load().then((identity) => live && setKnownDeviceId(identity?.deviceId ?? null), () => undefined);
    return () => {
      live = false;
    };
  }, [keys, phase.kind]);

  const refused = pairing.refused;
  const onUnauthorized = useCallback(() => {
    queryClient.removeQueries({ predicate: (q) => isGatewayQuery(q.queryKey) });
    refused();
    ui.getState().setView('instance');
  }, [queryClient, refused, ui]);

  useSignOutRequests(desktop, () => void signOut());
  useDeepLinks(desktop, pairing.retry);

  const gatewayUrl = paired?.record.gatewayUrl ?? null;
  const gatewayFetch = useMemo(() => (gatewayUrl === null ? null : fetchAt(fetch, gatewayUrl, passes)), [fetch, gatewayUrl, passes]);
  // Through the door, with a door pass at every (re)connect.
  const socketUrl = useMemo(() => (gatewayUrl === null ? null : () => withDoorPass(socketUrlOf(gatewayUrl), passes)), [gatewayUrl, passes]);
  const waking = instance?.state === 'sleeping' || instance?.state === 'starting';
  const identity = paired?.identity ?? null;

  const page = (
    <InstancePage
      instance={instance}
      loading={mine.loading}
      error={mine.error ?? (keysError === null ? null : new Error(keysError))}
      creating={mine.creating}
      onCreate={mine.create}
      onDeleted={mine.stopAutoCreate}
      events={events}
      pairing={pairing}
      keys={keys}
      thisDeviceId={identity?.deviceId ?? knownDeviceId}
      desktop={desktop}
    />
  );

  if (identity && socketUrl && gatewayFetch) {
    return (
      <GatewayProvider identity={identity} socketUrl={socketUrl} waking={waking} fetch={gatewayFetch} now={now} onUnauthorized={onUnauthorized}>
        <Notifications desktop={desktop} isAway={isAway} />
        <Workspace instancePage={page} billingPage={<BillingPage />} headerEnd={<AccountMenu />} />
      </GatewayProvider>
    );
  }
  return (
    <div className="app">
      <AppHeader views={UNPAIRED_VIEWS} current={view === 'billing' ? 'billing' : 'instance'} end={<AccountMenu />} />
      <div className="app-body single">
        <main className="content">{view === 'billing' ? <BillingPage /> : page}</main>
      </div>
    </div>
  );
}

function Notifications({ desktop, isAway }: { desktop: AutoClawDesktopApi | null; isAway: () => boolean }) {
  useAnswerNotifications(desktop, isAway);
  return null;
}
