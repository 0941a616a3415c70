/**
 * A consistent snapshot of a gateway's data directory while it runs: its
 * database through SQLite's online backup API (better-sqlite3's
 * `db.backup()`, never a copy of live files) plus the workspace. Restoring
 * writes the files into a staging directory, then swaps them in (the
 * gateway stopped) — a step a crash can repeat.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { ArchiveFile } from './archive';

const DATABASE_FILE = 'gateway.db';
const WORKSPACE_DIR = 'workspace';

function workspaceFiles(dir: string, root: string, out: ArchiveFile[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) workspaceFiles(path, root, out);
    else if (entry.isFile()) out.push({ path: relative(root, path).split(sep).join('/'), data: readFileSync(path) });
  }
}

export async function takeSnapshot(dataDir: string, scratchDir: string): Promise<ArchiveFile[]> {
  const files: ArchiveFile[] = [];
  const dbPath = join(dataDir, DATABASE_FILE);
  if (existsSync(dbPath)) {
    const { default: Database } = await import('better-sqlite3');
    mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
    const tmp = join(scratchDir, `snapshot-${process.pid}-${Date.now()}.db`);
    const db = new Database(dbPath, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      await db.backup(tmp);
    } finally {
      db.close();
    }
    try {
      files.push({ path: DATABASE_FILE, data: readFileSync(tmp) });
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  workspaceFiles(join(dataDir, WORKSPACE_DIR), dataDir, files);
  return files;
}

/** Writes the files into `staging` (emptied first), then marks it complete. */
export function stageFiles(staging: string, files: ArchiveFile[]): void {
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, WORKSPACE_DIR), { recursive: true, mode: 0o700 });
  for (const f of files) {
    const path = join(staging, ...f.path.split('/'));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, f.data, { mode: 0o600 });
  }
  if (!files.some((f) => f.path === DATABASE_FILE)) writeFileSync(join(staging, NO_DATABASE), '');
  writeFileSync(join(staging, COMPLETE), '');
}

const COMPLETE = '.complete';
const NO_DATABASE = '.no-database';
export const isStaged = (staging: string): boolean => existsSync(join(staging, COMPLETE));

/**
 * Replaces the data directory's database and workspace by the staged ones
 * (the gateway must be stopped). Each move is done once and a crash midway
 * is finished by running it again; false when nothing complete was staged.
 */
export function swapInStaged(dataDir: string, staging: string): boolean {
  if (!isStaged(staging)) return false;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const live = join(dataDir, DATABASE_FILE);
  const stagedDb = join(staging, DATABASE_FILE);
  if (existsSync(stagedDb) || existsSync(join(staging, NO_DATABASE))) {
    // A WAL left beside the old file must never be applied to the restored one.
    for (const extra of ['-wal', '-shm', '-journal']) rmSync(`${live}${extra}`, { force: true });
    if (existsSync(stagedDb)) renameSync(stagedDb, live);
    else {
      rmSync(live, { force: true });
      rmSync(join(staging, NO_DATABASE), { force: true });
    }
  }
  const stagedWorkspace = join(staging, WORKSPACE_DIR);
  if (existsSync(stagedWorkspace)) {
    rmSync(join(dataDir, WORKSPACE_DIR), { recursive: true, force: true });
    renameSync(stagedWorkspace, join(dataDir, WORKSPACE_DIR));
  }
  rmSync(staging, { recursive: true, force: true });
  return true;
}
