/**
 * Releases, updates and backups as the manager shows them: the signed
 * release manifest, an instance's release state, update runs (a persisted
 * step machine: backup → trial → switch → health), backups, and the
 * procedure inputs of releases.*, updates.* and backups.*.
 */
import { z } from 'zod';
import { Id } from './schemas';

export const RELEASE_CHANNELS = ['stable', 'beta'] as const;
export const ReleaseChannel = z.enum(RELEASE_CHANNELS);
export type ReleaseChannel = z.infer<typeof ReleaseChannel>;

/** 1.2.3 or 1.2.3-beta.1: a file name too (releases/<version>/). */
export const ReleaseVersion = z.string().regex(/^\d{1,5}\.\d{1,5}\.\d{1,5}(-[0-9A-Za-z.]{1,40})?$/, 'a version is MAJOR.MINOR.PATCH[-PRE]');

/** What the release key signs (Ed25519 over the canonical JSON of these fields, in this order). */
export const ReleaseManifestBody = z
  .object({
    version: ReleaseVersion,
    channel: ReleaseChannel,
    /** Local driver: a tarball (.tar.gz) or directory, relative to the manifest file (or absolute). */
    artifact: z.string().min(1).max(1_000),
    /** SHA-256 (hex) of the tarball's bytes, or of a directory's tree (see the README). */
    artifactSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Kubernetes: the gateway image of this release. */
    image: z.string().max(500).optional(),
    /** The oldest data-schema version this release can migrate from. */
    minSchemaVersion: z.number().int().min(0),
    notes: z.string().max(10_000),
  })
  .strict();
export type ReleaseManifestBody = z.infer<typeof ReleaseManifestBody>;

export const SignedReleaseManifest = ReleaseManifestBody.extend({
  /** base64url raw Ed25519 public key of the signer. */
  signedBy: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** base64url Ed25519 signature. */
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
}).strict();
export type SignedReleaseManifest = z.infer<typeof SignedReleaseManifest>;

export const ReleaseSchema = z.object({
  version: z.string(),
  channel: ReleaseChannel,
  artifactSha256: z.string(),
  image: z.string().nullable(),
  minSchemaVersion: z.number().int(),
  notes: z.string(),
  signedBy: z.string(),
  addedAt: z.number(),
});
export type Release = z.infer<typeof ReleaseSchema>;

export const UPDATE_STEPS = ['backup', 'trial', 'drain', 'switch', 'health', 'done', 'rollback'] as const;
export const UpdateStep = z.enum(UPDATE_STEPS);
export type UpdateStep = z.infer<typeof UpdateStep>;

export const UPDATE_OUTCOMES = ['running', 'succeeded', 'rolled-back', 'failed'] as const;
export const UpdateOutcome = z.enum(UPDATE_OUTCOMES);
export type UpdateOutcome = z.infer<typeof UpdateOutcome>;

export const UpdateRunSchema = z.object({
  id: z.string(),
  instanceId: Id,
  /** `update` to a release, `rollback` by hand to the previous version. */
  kind: z.enum(['update', 'rollback']),
  fromVersion: z.string(),
  toVersion: z.string(),
  step: UpdateStep,
  outcome: UpdateOutcome,
  /** Why it was rolled back (or failed). */
  reason: z.string().nullable(),
  backupId: z.string().nullable(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type UpdateRun = z.infer<typeof UpdateRunSchema>;

export const InstanceReleaseSchema = z.object({
  instanceId: Id,
  version: z.string(),
  previousVersion: z.string().nullable(),
  channel: ReleaseChannel,
  /** Daily maintenance window in UTC, minutes after midnight [start, end); null: updates only by hand. */
  window: z.object({ startMinute: z.number().int().min(0).max(1439), endMinute: z.number().int().min(1).max(1440) }).nullable(),
  lastUpdatedAt: z.number().nullable(),
  lastBackupAt: z.number().nullable(),
  /** The newest release of its channel when newer than what runs. */
  available: z.string().nullable(),
});
export type InstanceRelease = z.infer<typeof InstanceReleaseSchema>;

export const BACKUP_KINDS = ['scheduled', 'manual', 'pre-update'] as const;
export const BackupKind = z.enum(BACKUP_KINDS);
export type BackupKind = z.infer<typeof BackupKind>;

export const BackupSchema = z.object({
  id: z.string(),
  instanceId: Id,
  createdAt: z.number(),
  bytes: z.number().int(),
  kind: BackupKind,
});
export type Backup = z.infer<typeof BackupSchema>;

const BackupIdSchema = z.string().regex(/^bk-[0-9a-z-]{1,80}$/);

export const UpdatesInputs = {
  instance: z.object({ instanceId: Id }).strict(),
  update: z.object({ instanceId: Id, version: ReleaseVersion.optional() }).strict(),
  settings: z
    .object({
      instanceId: Id,
      channel: ReleaseChannel.optional(),
      window: InstanceReleaseSchema.shape.window.optional(),
    })
    .strict(),
  progress: z.object({ instanceId: Id, lastEventId: z.union([z.string(), z.number()]).nullish() }).strict(),
  backup: z.object({ instanceId: Id, backupId: BackupIdSchema }).strict(),
  restore: z.object({ instanceId: Id, backupId: BackupIdSchema, intoNew: z.boolean().optional() }).strict(),
  addRelease: z.object({ manifest: z.string().max(100_000), baseDir: z.string().max(1_000) }).strict(),
} as const;
