/** The cluster part's tables: leases (leader election, per-instance work) and the registry of live replicas. */
import type { Migration } from '../db';

export interface LeasesTable {
  name: string;
  holder: string;
  /** The fencing token: grows by one each time the lease changes hands. */
  token: number;
  acquired_at: number;
  expires_at: number;
}

export interface ReplicasTable {
  id: string;
  /** The replica's own URL. */
  url: string;
  /** JSON array of the browser origins it serves (gateways must accept them all). */
  origins: string;
  host: string;
  pid: number;
  started_at: number;
  seen_at: number;
}

declare module '../db/types' {
  interface ManagerTables {
    leases: LeasesTable;
    manager_replicas: ReplicasTable;
  }
}

export const CLUSTER_PART = 'cluster';

export const CLUSTER_MIGRATIONS: readonly Migration[] = [
  (w) => [
    `CREATE TABLE leases (
       name         TEXT PRIMARY KEY,
       holder       TEXT NOT NULL,
       token        ${w.int} NOT NULL,
       acquired_at  ${w.int} NOT NULL,
       expires_at   ${w.int} NOT NULL
     )`,
    `CREATE TABLE manager_replicas (
       id          TEXT PRIMARY KEY,
       url         TEXT NOT NULL,
       origins     TEXT NOT NULL,
       host        TEXT NOT NULL,
       pid         INTEGER NOT NULL,
       started_at  ${w.int} NOT NULL,
       seen_at     ${w.int} NOT NULL
     )`,
  ],
];
