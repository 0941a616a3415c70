/**
 * The release catalogue: `add` verifies a signed manifest, checks the
 * artifact's digest, unpacks it into DIR/releases/<version>/ (a tarball via
 * the system `tar`, or a directory copied) and records it. A release for the
 * local driver is a gateway build: `autoclaw.mjs` (server/dist) at its root;
 * packages and native addons (better-sqlite3) come from this checkout's
 * node_modules, linked into the release directory.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AppError } from '@autoclaw/shared';
import type { Release, ReleaseChannel } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { artifactDigest, pinnedImage, verifyManifest } from './manifest';
import type { ReleasesTable } from './schema';

const run = promisify(execFile);

/** The entry point of a release build. */
export const RELEASE_ENTRY = 'autoclaw.mjs';
export const releasesDir = (dataDir: string): string => join(dataDir, 'releases');
export const releaseDir = (dataDir: string, version: string): string => join(releasesDir(dataDir), version);

/** The node_modules of the checkout this code runs from. */
export function checkoutNodeModules(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(join(candidate, 'better-sqlite3'))) return candidate;
    dir = dirname(dir);
  }
  return null;
}

export function toRelease(row: ReleasesTable): Release {
  return {
    version: row.version,
    channel: row.channel,
    artifactSha256: row.artifact_sha256,
    image: row.image,
    minSchemaVersion: row.min_schema_version,
    notes: row.notes,
    signedBy: row.signed_by,
    addedAt: row.added_at,
  };
}

/** Orders 1.2.3 < 1.2.10 < 2.0.0-beta.1 < 2.0.0. */
export function compareVersions(a: string, b: string): number {
  const [ca = '', pa] = a.split('-', 2);
  const [cb = '', pb] = b.split('-', 2);
  const na = ca.split('.').map(Number);
  const nb = cb.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((na[i] ?? 0) !== (nb[i] ?? 0)) return (na[i] ?? 0) - (nb[i] ?? 0);
  if (pa === pb) return 0;
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  return pa < pb ? -1 : 1;
}

export interface ReleaseCatalogue {
  add(manifestText: string, baseDir: string): Promise<Release>;
  list(): Promise<Release[]>;
  get(version: string): Promise<Release | null>;
  /** The newest release a channel offers (beta follows stable releases too). */
  newest(channel: ReleaseChannel): Promise<Release | null>;
  /** Whether the build of `version` is unpacked here. */
  installed(version: string): boolean;
  /** The image `version` runs as on Kubernetes, pinned by digest (null: no release, or none with an image). */
  imageOf(version: string): Promise<string | null>;
}

/** A recorded release's pinned image (see pinnedImage), read from the manager's database. */
export async function releaseImageOf(db: ManagerDb, version: string): Promise<string | null> {
  const row = await db.k.selectFrom('releases').select(['image', 'artifact_sha256']).where('version', '=', version).executeTakeFirst();
  return row?.image ? pinnedImage(row.image, row.artifact_sha256) : null;
}

/** `forKubernetes`: instances run images, so every release must name its image (run pinned by its signed digest). */
export function createReleaseCatalogue(opts: { db: ManagerDb; dataDir: string; trustedKeys: readonly string[]; now: () => number; forKubernetes?: boolean }): ReleaseCatalogue {
  const { db, dataDir } = opts;

  async function install(artifact: string, version: string): Promise<void> {
    const final = releaseDir(dataDir, version);
    if (existsSync(join(final, RELEASE_ENTRY))) return;
    mkdirSync(releasesDir(dataDir), { recursive: true, mode: 0o700 });
    const tmp = join(releasesDir(dataDir), `.${version}.${process.pid}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o700 });
    try {
      if (statSync(artifact).isDirectory()) cpSync(artifact, tmp, { recursive: true });
      else {
        try {
          await run('tar', ['-xzf', artifact, '-C', tmp, '--no-same-owner'], { timeout: 120_000 });
        } catch (err) {
          throw new AppError('BAD_REQUEST', `the release artifact is not a readable .tar.gz: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      if (!existsSync(join(tmp, RELEASE_ENTRY))) throw new AppError('BAD_REQUEST', `the release artifact has no ${RELEASE_ENTRY} at its root`);
      const modules = checkoutNodeModules();
      if (modules && !existsSync(join(tmp, 'node_modules'))) symlinkSync(modules, join(tmp, 'node_modules'), 'dir');
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  return {
    async add(manifestText, baseDir) {
      const m = verifyManifest(manifestText, opts.trustedKeys);
      if (m.image) pinnedImage(m.image, m.artifactSha256);
      else if (opts.forKubernetes) throw new AppError('BAD_REQUEST', `release ${m.version} names no image: on Kubernetes a release runs as its image pinned by digest (IMAGE@sha256:<artifactSha256>), so its manifest must name the image`);
      const artifact = isAbsolute(m.artifact) ? m.artifact : resolve(baseDir, m.artifact);
      const digest = artifactDigest(artifact);
      if (digest !== m.artifactSha256) throw new AppError('BAD_REQUEST', `the release artifact's SHA-256 is ${digest}, not the signed ${m.artifactSha256}`);
      const existing = await db.k.selectFrom('releases').selectAll().where('version', '=', m.version).executeTakeFirst();
      if (existing && existing.artifact_sha256 !== m.artifactSha256) throw new AppError('CONFLICT', `release ${m.version} is already known with another artifact`);
      await install(artifact, m.version);
      if (existing) return toRelease(existing);
      const row: ReleasesTable = {
        version: m.version,
        channel: m.channel,
        artifact_sha256: m.artifactSha256,
        image: m.image ?? null,
        min_schema_version: m.minSchemaVersion,
        notes: m.notes,
        signed_by: m.signedBy,
        manifest: manifestText,
        added_at: opts.now(),
      };
      await db.k.insertInto('releases').values(row).onConflict((oc) => oc.column('version').doNothing()).execute();
      return toRelease(row);
    },
    async list() {
      const rows = await db.k.selectFrom('releases').selectAll().execute();
      return rows.map(toRelease).sort((a, b) => compareVersions(b.version, a.version));
    },
    async get(version) {
      const row = await db.k.selectFrom('releases').selectAll().where('version', '=', version).executeTakeFirst();
      return row ? toRelease(row) : null;
    },
    async newest(channel) {
      const all = (await this.list()).filter((r) => channel === 'beta' || r.channel === 'stable');
      return all[0] ?? null;
    },
    installed: (version) => existsSync(join(releaseDir(dataDir, version), RELEASE_ENTRY)),
    imageOf: (version) => releaseImageOf(db, version),
  };
}
