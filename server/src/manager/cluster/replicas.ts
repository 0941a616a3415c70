/**
 * The registry of manager replicas sharing one database: each writes its
 * row at start and a heartbeat while it runs. Gateways must accept the
 * browser origins of every live replica (the manager UI may be served by
 * any of them), and operators see who is there.
 */
import type { ManagerDb } from '../db';
import type { ReplicasTable } from './schema';

export interface ReplicaInfo {
  id: string;
  url: string;
  origins: string[];
  host: string;
  pid: number;
  startedAt: number;
  seenAt: number;
}

function parseOrigins(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((o): o is string => typeof o === 'string') : [];
  } catch {
    return [];
  }
}

const toInfo = (r: ReplicasTable): ReplicaInfo => ({ id: r.id, url: r.url, origins: parseOrigins(r.origins), host: r.host, pid: r.pid, startedAt: r.started_at, seenAt: r.seen_at });

export interface Replicas {
  register(info: Omit<ReplicaInfo, 'seenAt'>): Promise<void>;
  beat(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Replicas seen within `withinMs`, oldest first. */
  live(withinMs: number): Promise<ReplicaInfo[]>;
  /** Forgets replicas not seen for `olderThanMs`. */
  prune(olderThanMs: number): Promise<void>;
}

export function createReplicas(db: ManagerDb, now: () => number): Replicas {
  return {
    async register(info) {
      const row = { id: info.id, url: info.url, origins: JSON.stringify(info.origins), host: info.host, pid: info.pid, started_at: info.startedAt, seen_at: now() };
      await db.k
        .insertInto('manager_replicas')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet({ url: row.url, origins: row.origins, seen_at: row.seen_at }))
        .execute();
    },
    async beat(id) {
      await db.k.updateTable('manager_replicas').set({ seen_at: now() }).where('id', '=', id).execute();
    },
    async remove(id) {
      await db.k.deleteFrom('manager_replicas').where('id', '=', id).execute();
    },
    async live(withinMs) {
      const rows = await db.k.selectFrom('manager_replicas').selectAll().where('seen_at', '>', now() - withinMs).orderBy('started_at').orderBy('id').execute();
      return rows.map(toInfo);
    },
    async prune(olderThanMs) {
      await db.k.deleteFrom('manager_replicas').where('seen_at', '<', now() - olderThanMs).execute();
    },
  };
}
