/** Paired devices, one-time pairing codes and settings. */
import { AppError, DeviceRole } from '@autoclaw/shared';
import type { StoreContext } from './context';
import { toDevice, type DeviceRow } from './rows';
import type { NewAuditEntry, NewDevice, Store } from './types';
import { checkId, checkText, checkTime } from './validate';

export type DeviceQueries = Pick<
  Store,
  | 'insertDevice'
  | 'getDevice'
  | 'listDevices'
  | 'revokeDevice'
  | 'setDeviceRole'
  | 'touchDevice'
  | 'addPairingCode'
  | 'consumePairingCode'
  | 'getSetting'
  | 'setSetting'
  | 'changeSettings'
  | 'settingsVersion'
>;

function checkRole(role: unknown): DeviceRole {
  const parsed = DeviceRole.safeParse(role);
  if (!parsed.success) throw new AppError('BAD_REQUEST', `unknown device role ${JSON.stringify(role)}`);
  return parsed.data;
}

const DEVICE_KINDS: ReadonlySet<string> = new Set(['operator', 'client', 'manager']);
/** A raw 32-byte Ed25519 public key in unpadded base64url. */
const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
/** Encrypted secrets are longer than their plaintext; leave room for the envelope. */
const MAX_SETTING_CHARS = 64 * 1024;

export function deviceQueries({ db, now }: StoreContext, appendAudit: Store['appendAudit']): DeviceQueries {
  const byId = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?');
  const all = db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY created_at, id');
  const insert = db.prepare<[string, string, string, string, string, number]>(
    'INSERT INTO devices (id, name, kind, role, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const revoke = db.prepare<[number, string]>('UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?');
  const setRole = db.prepare<[string, string]>('UPDATE devices SET role = ? WHERE id = ?');
  const touch = db.prepare<[number, string]>('UPDATE devices SET last_seen_at = ? WHERE id = ?');

  const dropExpiredCodes = db.prepare<[number]>('DELETE FROM pairing_codes WHERE expires_at <= ?');
  const codeExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM pairing_codes WHERE code_hash = ?');
  const insertCode = db.prepare<[string, number, number, string | null]>(
    'INSERT INTO pairing_codes (code_hash, created_at, expires_at, role) VALUES (?, ?, ?, ?)',
  );
  // One statement: of two processes racing for the same code, exactly one
  // gets the row back.
  const consume = db.prepare<[number, string, number], { role: DeviceRole | null }>(
    'UPDATE pairing_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING role',
  );

  const getSetting = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  /** Settings writes through this connection (data_version counts only other connections' commits). */
  let localWrites = 0;
  const putSetting = db.prepare<[string, string, number]>(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  const deleteSetting = db.prepare<[string]>('DELETE FROM settings WHERE key = ?');

  const insertDevice = db.transaction((device: NewDevice) => {
    if (byId.get(device.id)) throw new AppError('CONFLICT', `device ${device.id} is already registered`);
    insert.run(device.id, device.name, device.kind, device.role, device.publicKey, now());
    return toDevice(byId.get(device.id) as DeviceRow);
  });

  const addCode = db.transaction((codeHash: string, expiresAt: number, role: DeviceRole | null): void => {
    // Housekeeping: expired codes can never be used again.
    dropExpiredCodes.run(now());
    if (codeExists.get(codeHash)) throw new AppError('CONFLICT', 'this pairing code already exists');
    insertCode.run(codeHash, now(), expiresAt, role);
  });

  /** Runs `change` (true when it changed a row) and appends `audit` when it did, in one transaction. */
  const audited = db.transaction((id: string, change: () => boolean, audit: NewAuditEntry | undefined) => {
    if (!change()) return null;
    if (audit) appendAudit(audit);
    const row = byId.get(id);
    return row ? toDevice(row) : null;
  });

  const changeSettings = db.transaction((changes: ReadonlyArray<{ key: string; value: string | null }>, audit: readonly NewAuditEntry[]) => {
    for (const { key, value } of changes) {
      if (value === null) deleteSetting.run(key);
      else putSetting.run(key, value, now());
    }
    for (const entry of audit) appendAudit(entry);
  });

  return {
    insertDevice(device) {
      if (typeof device.kind !== 'string' || !DEVICE_KINDS.has(device.kind)) {
        throw new AppError('BAD_REQUEST', `unknown device kind ${JSON.stringify(device.kind)}`);
      }
      if (typeof device.publicKey !== 'string' || !PUBLIC_KEY_RE.test(device.publicKey)) {
        throw new AppError('BAD_REQUEST', 'a device public key is a raw Ed25519 key (32 bytes) in base64url');
      }
      return insertDevice.immediate({
        id: checkId(device.id, 'device id'),
        name: checkText(device.name, 'device name', 200),
        kind: device.kind,
        role: checkRole(device.role),
        publicKey: device.publicKey,
      });
    },
    getDevice(id) {
      if (typeof id !== 'string') return null;
      const row = byId.get(id);
      return row ? toDevice(row) : null;
    },
    listDevices() {
      return all.all().map(toDevice);
    },
    revokeDevice(id, audit) {
      if (typeof id !== 'string') return null;
      // Revoking twice keeps the first revocation time.
      return audited.immediate(id, () => revoke.run(now(), id).changes > 0, audit);
    },
    setDeviceRole(id, role, audit) {
      if (typeof id !== 'string') return null;
      const checked = checkRole(role);
      return audited.immediate(id, () => setRole.run(checked, id).changes > 0, audit);
    },
    touchDevice(id) {
      if (typeof id !== 'string' || touch.run(now(), id).changes === 0) {
        throw new AppError('NOT_FOUND', `device ${String(id)} was not found`);
      }
    },
    addPairingCode(codeHash, expiresAt, role = null) {
      if (typeof codeHash !== 'string' || !SHA256_HEX_RE.test(codeHash)) {
        throw new AppError('BAD_REQUEST', 'a pairing code is stored as its SHA-256 in lowercase hex');
      }
      addCode.immediate(codeHash, checkTime(expiresAt, 'expiresAt'), role === null ? null : checkRole(role));
    },
    consumePairingCode(codeHash, at) {
      if (typeof codeHash !== 'string' || !SHA256_HEX_RE.test(codeHash)) return null;
      const when = checkTime(at, 'now');
      const row = consume.get(when, codeHash, when);
      return row ? { role: row.role } : null;
    },
    getSetting(key) {
      if (typeof key !== 'string') return null;
      return getSetting.get(key)?.value ?? null;
    },
    setSetting(key, value) {
      const checkedKey = checkText(key, 'setting key', 200);
      localWrites += 1;
      if (value === null) {
        deleteSetting.run(checkedKey);
        return;
      }
      putSetting.run(checkedKey, checkText(value, 'setting value', MAX_SETTING_CHARS, { allowEmpty: true }), now());
    },
    changeSettings(changes, audit) {
      const checked = changes.map(({ key, value }) => ({
        key: checkText(key, 'setting key', 200),
        value: value === null ? null : checkText(value, 'setting value', MAX_SETTING_CHARS, { allowEmpty: true }),
      }));
      localWrites += 1;
      changeSettings.immediate(checked, audit);
    },
    settingsVersion() {
      return `${dataVersion.get() ?? 0}.${localWrites}`;
    },
  };
}
