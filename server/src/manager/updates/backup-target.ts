/**
 * Where backup files are kept: under the manager's data directory (the
 * default), or in S3-compatible storage (s3-target.ts). Keys are
 * `<instanceId>/<backupId>.acbk`.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '@autoclaw/shared';

export interface BackupTarget {
  readonly kind: 'local' | 's3';
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`. */
  list(prefix: string): Promise<string[]>;
}

export const backupKey = (instanceId: string, backupId: string): string => `${instanceId}/${backupId}.acbk`;

export function localBackupTarget(dir: string): BackupTarget {
  const pathOf = (key: string) => join(dir, ...key.split('/'));
  return {
    kind: 'local',
    async put(key, data) {
      const path = pathOf(key);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
    async get(key) {
      try {
        return readFileSync(pathOf(key));
      } catch (err) {
        throw new AppError('NOT_FOUND', `the backup file ${key} is missing`, { cause: err });
      }
    },
    async delete(key) {
      rmSync(pathOf(key), { force: true });
    },
    async list(prefix) {
      if (!existsSync(dir)) return [];
      const keys: string[] = [];
      for (const sub of readdirSync(dir, { withFileTypes: true })) {
        if (!sub.isDirectory()) continue;
        for (const f of readdirSync(join(dir, sub.name))) if (f.endsWith('.acbk')) keys.push(`${sub.name}/${f}`);
      }
      return keys.filter((k) => k.startsWith(prefix)).sort();
    },
  };
}
