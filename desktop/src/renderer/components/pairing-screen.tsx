import { useState, type FormEvent } from 'react';
import { loadOrCreateIdentity, type DeviceIdentity } from '../lib/device-identity';
import { PairError, pairDevice } from '../lib/gateway-http';
import type { KeyStore } from '../lib/key-store';

interface PairingScreenProps {
  subtle: SubtleCrypto;
  keyStore: KeyStore;
  fetch: typeof fetch;
  now: () => number;
  userAgent: string;
  /** Why we are back here (e.g. the device was revoked), if known. */
  reason: string | null;
  onPaired: (identity: DeviceIdentity) => void;
}

export function PairingScreen({ subtle, keyStore, fetch, now, userAgent, reason, onPaired }: PairingScreenProps) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const pairingCode = code.trim();
    if (!pairingCode) {
      setError('Enter the pairing code first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const identity = await loadOrCreateIdentity(subtle, keyStore);
      await pairDevice(fetch, identity, pairingCode, now, userAgent);
      onPaired(identity);
    } catch (err) {
      setError(err instanceof PairError ? err.message : `Pairing failed: ${String(err)}`);
      setBusy(false);
    }
  }

  return (
    <main className="pairing">
      <section className="pairing-card" aria-labelledby="pairing-title">
        <h1 id="pairing-title">Pair this browser</h1>
        {reason && (
          <p className="notice warning" role="status">
            {reason}
          </p>
        )}
        <p>
          This browser needs a one-time pairing code from the machine that runs your AutoClaw gateway. Run{' '}
          <code>autoclaw pair --data DIR</code> there (or look for the code printed by <code>npm start</code>) and enter it
          below.
        </p>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor="pairing-code">Pairing code</label>
          <input
            id="pairing-code"
            name="pairing-code"
            autoComplete="one-time-code"
            autoCapitalize="characters"
            spellCheck={false}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            aria-invalid={error !== null}
            aria-describedby={error ? 'pairing-error' : undefined}
            disabled={busy}
            autoFocus
          />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Pairing…' : 'Pair'}
          </button>
        </form>
        {error && (
          <p id="pairing-error" className="notice error" role="alert">
            {error}
          </p>
        )}
        <p className="hint">
          The code works once and expires after a few minutes. This browser keeps a private key that never leaves it; you can
          revoke it any time in Settings → Devices.
        </p>
      </section>
    </main>
  );
}
