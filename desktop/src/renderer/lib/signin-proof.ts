/**
 * A device that was paired with the account's instance proves it at sign-in
 * (its Ed25519 key signs SIGNIN_PROOF_NONCE with the time): the manager then
 * lets it in at once even while wrong passwords from elsewhere at the same
 * address slow everyone else down. Only an existing key is used (none is
 * made for this), and no proof is no harm: the sign-in goes on without one.
 */
import { SIGNIN_PROOF_NONCE } from '@autoclaw/shared';
import type { SignInDeviceProof } from '@autoclaw/shared';
import type { DeviceKeys } from './device-keys';

export async function signInProof(loadKeys: () => Promise<DeviceKeys>, now: () => number): Promise<SignInDeviceProof | undefined> {
  try {
    const identity = await (await loadKeys()).load();
    if (!identity) return undefined;
    const timestamp = now();
    return { publicKey: identity.publicKey, timestamp, signature: await identity.signChallenge(SIGNIN_PROOF_NONCE, timestamp) };
  } catch {
    return undefined;
  }
}
