/** The security part's door: device keys and proofs, pairing codes, settings, the vault and secret files. */
export { deviceIdFromPublicKey, generateDeviceKey, keyPairOf, parsePublicKey, signPayload, verifyPayload } from './device-keys';
export type { DeviceKeyPair } from './device-keys';
export { pairDevice, verifyDeviceAuth, PairRequestSchema, DeviceAuthParamsSchema } from './device-auth';
export type { DeviceAuthDeps } from './device-auth';
export { createNonceStore } from './nonces';
export type { NonceStore } from './nonces';
export { createRateLimiter } from './rate-limiter';
export type { RateLimiter } from './rate-limiter';
export { issuePairingCode, consumePairingCode, PAIRING_CODE_TTL_MS } from './pairing-code';
export { ensureOperatorDevice, loadOperatorKey, operatorKeyPath } from './operator-device';
export { createSettings, isSecretSetting } from './settings';
export type { Settings } from './settings';
export { validateSettingValue } from './setting-values';
export type { EnvSettings } from './setting-values';
export { createVault } from './vault';
export type { Vault } from './vault';
export { loadOrCreateKeyFile, readSecretFile, writeSecretFile } from './key-file';
