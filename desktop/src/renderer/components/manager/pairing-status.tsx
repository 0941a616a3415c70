/** Where this device stands with the instance: pairing, paired, failed (retry), revoked (pair with a new key). */
import type { ManagedPairing } from '../../hooks/use-managed-pairing';
import type { DeviceKeys } from '../../lib/device-keys';

interface PairingStatusProps {
  pairing: ManagedPairing;
  storage: DeviceKeys['storage'] | null;
  live: boolean;
}

export function PairingStatus({ pairing, storage, live }: PairingStatusProps) {
  const { phase } = pairing;
  return (
    <section className="settings-section" aria-labelledby="pairing-status-title">
      <h2 id="pairing-status-title">This device</h2>
      {storage === 'memory' && (
        <p className="notice warning" role="status">
          This app could not keep its device key in the system keychain, so it holds it only until you quit. After a restart it
          pairs again as a new device.
        </p>
      )}
      {storage === 'plaintext' && (
        <p className="notice warning" role="status">
          This device key is stored without encryption (no system keyring was available), as you agreed.
        </p>
      )}
      <div role="status" aria-label="Pairing" data-phase={phase.kind}>
        {phase.kind === 'waiting' && <p className="muted">{live ? 'Preparing…' : 'This device pairs with your assistant as soon as it runs.'}</p>}
        {phase.kind === 'pairing' && <p>Pairing this device with your assistant…</p>}
        {phase.kind === 'paired' && <p>This device is paired with your assistant.</p>}
        {phase.kind === 'failed' && (
          <div className="notice error">
            <p>Pairing failed: {phase.message}</p>
            <button type="button" onClick={pairing.retry}>
              Try again
            </button>
          </div>
        )}
        {phase.kind === 'revoked' && (
          <div className="notice warning">
            <p>This device was revoked: your assistant refuses its key and closed its connection.</p>
            {pairing.pairWithNewKey ? (
              <button type="button" onClick={pairing.pairWithNewKey}>
                Pair again with a new key
              </button>
            ) : (
              <p className="small">This app cannot make a new device key yet; reinstalling it makes one.</p>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
