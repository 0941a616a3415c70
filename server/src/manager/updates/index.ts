/** The updates part's door: releases, health-gated updates with rollback, encrypted backups and restores. */
export { createUpdatesPart } from './part';
export type { UpdatesPart, UpdatesPartOptions } from './part';
export { migrateUpdates } from './schema';
export { signManifest, verifyManifest, artifactDigest, canonicalManifest, pinnedImage, BUILT_IN_RELEASE_PUBLIC_KEY } from './manifest';
export { releaseImageOf } from './releases';
export { localBackupTarget } from './backup-target';
export type { BackupTarget } from './backup-target';
export { pruneList, DEFAULT_RETENTION } from './retention';
export type { Retention } from './retention';
export { updatesRouter, backupsRouter, releasesRouter } from './router';
export { runVolumeJob, s3FromEnv } from './volume-job';
export type { VolumeJob } from './volume-job';
