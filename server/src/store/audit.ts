/** The gateway's append-only audit log (triggers refuse UPDATE and DELETE). */
import { AppError, GatewayAuditAction } from '@autoclaw/shared';
import type { GatewayAuditEntry } from '@autoclaw/shared';
import type { StoreContext } from './context';
import type { NewAuditEntry, Store } from './types';
import { checkText } from './validate';

export type AuditQueries = Pick<Store, 'appendAudit' | 'listAudit'>;

interface AuditRow {
  seq: number;
  at: number;
  device_id: string | null;
  action: GatewayAuditEntry['action'];
  target: string;
  old_value: string | null;
  new_value: string | null;
  detail: string | null;
}

function toEntry(row: AuditRow): GatewayAuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    deviceId: row.device_id,
    action: row.action,
    target: row.target,
    oldValue: row.old_value,
    newValue: row.new_value,
    detail: row.detail,
  };
}

const optionalText = (value: string | null | undefined, what: string): string | null =>
  value === undefined || value === null ? null : checkText(value, what, 500, { allowEmpty: true });

export function auditQueries({ db, now }: StoreContext): AuditQueries {
  const insert = db.prepare<[number, string | null, string, string, string | null, string | null, string | null]>(
    'INSERT INTO audit_log (at, device_id, action, target, old_value, new_value, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const bySeq = db.prepare<[number | bigint], AuditRow>('SELECT * FROM audit_log WHERE seq = ?');
  const page = db.prepare<[number, number], AuditRow>('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?');

  return {
    appendAudit(entry: NewAuditEntry) {
      if (!GatewayAuditAction.safeParse(entry.action).success) throw new AppError('BAD_REQUEST', `unknown audit action ${String(entry.action)}`);
      const info = insert.run(
        now(),
        optionalText(entry.deviceId, 'audit device id'),
        entry.action,
        checkText(entry.target, 'audit target', 200),
        optionalText(entry.oldValue, 'audit old value'),
        optionalText(entry.newValue, 'audit new value'),
        optionalText(entry.detail, 'audit detail'),
      );
      return toEntry(bySeq.get(info.lastInsertRowid) as AuditRow);
    },
    listAudit({ limit, beforeSeq }) {
      const n = Math.max(1, Math.min(Math.trunc(limit), 1_000));
      return page.all(beforeSeq ?? Number.MAX_SAFE_INTEGER, n).map(toEntry);
    },
  };
}
