/**
 * `autoclaw releases add|list`, `autoclaw instances update|rollback` and
 * `autoclaw backup create|list|verify|restore`, all `--data DIR`: through
 * the running manager (as the operator), or straight on its state and the
 * local driver when none runs.
 */
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { AppError, ReleaseVersion } from '@autoclaw/shared';
import type { Backup, Instance, Release, UpdateRun } from '@autoclaw/shared';
import { UsageError } from '../gateway';
import { createUpdatesPart, findLiveManager, operatorClient, parseOperatorConfig, parseReleaseKey, VERSION } from '../manager';
import type { OperatorConfig, UpdatesPart } from '../manager';
import { parseFlags } from './args';
import { withOffline } from './instances-command';
import type { CliIO } from './io';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function offlinePart<T>(config: OperatorConfig, io: CliIO, releaseKeys: string[], fn: (part: UpdatesPart) => Promise<T>): Promise<T> {
  const window = config.updateHealthWindowMs;
  return withOffline(config, io, async (service, offline, keys) => {
    const part = await createUpdatesPart({
      dataDir: config.dataDir,
      db: offline.db,
      instances: service,
      masterKey: keys.masterKey,
      now: Date.now,
      logger: silent,
      builtInVersion: VERSION,
      releaseKeys,
      ...(window === undefined ? {} : { timings: { healthWindowMs: window } }),
      ...(config.backupS3 ? { s3: config.backupS3 } : {}),
    });
    try {
      return await fn(part);
    } finally {
      await part.close();
    }
  });
}

/** Through the running manager, else offline. */
async function through<T>(config: OperatorConfig, io: CliIO, releaseKeys: string[], online: (call: ReturnType<typeof operatorClient>) => Promise<T>, offline: (part: UpdatesPart) => Promise<T>): Promise<T> {
  const running = await findLiveManager(config.dataDir);
  if (running) return online(operatorClient(config.dataDir, running, 600_000));
  return offlinePart(config, io, releaseKeys, offline);
}

function printRun(io: CliIO, run: UpdateRun, json: boolean): number {
  if (json) io.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  else if (run.outcome === 'succeeded') io.stdout.write(`${run.instanceId}: ${run.kind === 'update' ? 'updated' : 'rolled back'} ${run.fromVersion} → ${run.toVersion}\n`);
  else io.stdout.write(`${run.instanceId}: ${run.outcome} — running ${run.outcome === 'rolled-back' ? run.fromVersion : '?'} (${run.reason ?? 'no reason'})\n`);
  return run.outcome === 'succeeded' ? 0 : 1;
}

/** `instances update|rollback --data DIR ID [--version V]`. */
export async function runUpdate(verb: 'update' | 'rollback', args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, database: { type: 'string' }, version: { type: 'string' }, json: { type: 'boolean' } }, 2);
  const id = positionals[1];
  if (id === undefined || !ID.test(id)) throw new UsageError(`instances ${verb} needs an instance ID`);
  if (verb === 'rollback' && values.version !== undefined) throw new UsageError('instances rollback goes back to the previous version; --version is for update');
  let version: string | undefined;
  if (values.version !== undefined) {
    const v = ReleaseVersion.safeParse(values.version);
    if (!v.success) throw new UsageError(`--version: ${v.error.issues[0]?.message ?? 'not a version'}`);
    version = v.data;
  }
  const config = parseOperatorConfig(values);
  const input = { instanceId: id, ...(version ? { version } : {}) };
  const run = await through<UpdateRun>(
    config,
    io,
    [],
    (c) => c.mutation<UpdateRun>(verb === 'update' ? 'updates.operator.update' : 'updates.operator.rollback', verb === 'update' ? input : { instanceId: id }),
    (part) => part.updater.begin(id, { kind: verb, actor: 'operator', ...(version ? { version } : {}) }).finished,
  );
  return printRun(io, run, values.json === true);
}

/** `releases add --data DIR MANIFEST [--release-pubkey K]...`, `releases list --data DIR [--json]`. */
export async function runReleases(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, database: { type: 'string' }, json: { type: 'boolean' }, 'release-pubkey': { type: 'string', multiple: true } }, 2);
  const [action, manifest] = positionals;
  const keys = ((values['release-pubkey'] as string[] | undefined) ?? []).map(parseReleaseKey);
  if (action === 'add') {
    if (manifest === undefined) throw new UsageError('releases add needs the MANIFEST file');
    const path = resolve(manifest);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AppError('NOT_FOUND', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const config = parseOperatorConfig(values);
    const release = await through<Release>(config, io, keys, (c) => c.mutation<Release>('releases.operator.add', { manifest: text, baseDir: dirname(path) }), (part) => part.releases.add(text, dirname(path)));
    io.stdout.write(values.json ? `${JSON.stringify(release, null, 2)}\n` : `added ${release.version} (${release.channel})\n`);
    return 0;
  }
  if (action === 'list') {
    if (manifest !== undefined) throw new UsageError('releases list takes no argument');
    const config = parseOperatorConfig(values);
    const list = await through<Release[]>(config, io, keys, (c) => c.query<Release[]>('releases.operator.list'), (part) => part.releases.list());
    if (values.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else for (const r of list) io.stdout.write(`${r.version.padEnd(16)}${r.channel.padEnd(8)}${new Date(r.addedAt).toISOString()}  ${r.notes.split('\n')[0] ?? ''}\n`);
    return 0;
  }
  throw new UsageError(action === undefined ? 'say add or list' : `unknown action "${action.slice(0, 40)}"`);
}

const BACKUP_ACTIONS = ['create', 'list', 'verify', 'restore'] as const;

/** `backup create|list|verify|restore --data DIR ID [BACKUP_ID] [--into-new]`. */
export async function runBackup(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, database: { type: 'string' }, json: { type: 'boolean' }, 'into-new': { type: 'boolean' } }, 3);
  const [action, id, backupId] = positionals;
  if (!(BACKUP_ACTIONS as readonly string[]).includes(action ?? '')) throw new UsageError(action === undefined ? `say one of ${BACKUP_ACTIONS.join(', ')}` : `unknown action "${action.slice(0, 40)}"`);
  if (id === undefined || !ID.test(id)) throw new UsageError(`backup ${action} needs an instance ID`);
  const needsBackup = action === 'verify' || action === 'restore';
  if (needsBackup && (backupId === undefined || !/^bk-[0-9a-z-]{1,80}$/.test(backupId))) throw new UsageError(`backup ${action} needs a BACKUP_ID (see "autoclaw backup list")`);
  if (!needsBackup && backupId !== undefined) throw new UsageError(`backup ${action} takes no BACKUP_ID`);
  if (values['into-new'] && action !== 'restore') throw new UsageError('--into-new goes with "backup restore"');
  const config = parseOperatorConfig(values);
  const json = values.json === true;
  const ref = { instanceId: id, backupId: backupId as string };
  switch (action) {
    case 'create': {
      const b = await through<Backup>(config, io, [], (c) => c.mutation<Backup>('backups.operator.create', { instanceId: id }), (p) => p.backups.create(id, 'manual'));
      io.stdout.write(json ? `${JSON.stringify(b, null, 2)}\n` : `${b.id} (${b.bytes} bytes)\n`);
      return 0;
    }
    case 'list': {
      const list = await through<Backup[]>(config, io, [], (c) => c.query<Backup[]>('backups.operator.list', { instanceId: id }), (p) => p.backups.list(id));
      if (json) io.stdout.write(`${JSON.stringify(list.map((b) => ({ id: b.id, createdAt: b.createdAt, bytes: b.bytes, kind: b.kind })), null, 2)}\n`);
      else for (const b of list) io.stdout.write(`${b.id.padEnd(28)}${b.kind.padEnd(12)}${String(b.bytes).padStart(12)}  ${new Date(b.createdAt).toISOString()}\n`);
      return 0;
    }
    case 'verify': {
      const r = await through(config, io, [], (c) => c.query<{ ok: true; files: number; bytes: number }>('backups.operator.verify', ref), (p) => p.backups.verify(id, ref.backupId));
      io.stdout.write(json ? `${JSON.stringify(r)}\n` : `${ref.backupId}: ok (${r.files} files, ${r.bytes} bytes)\n`);
      return 0;
    }
    default: {
      const intoNew = values['into-new'] === true;
      const instance = await through<Instance>(
        config,
        io,
        [],
        (c) => c.mutation<Instance>('backups.operator.restore', { ...ref, intoNew }),
        (p) => (intoNew ? p.restoreIntoNew.restore(id, ref.backupId, 'operator') : p.restorer.restore(id, ref.backupId, 'operator')),
      );
      if (json) io.stdout.write(`${JSON.stringify(instance, null, 2)}\n`);
      else io.stdout.write(intoNew ? `${instance.id} ${instance.state} (a new instance restored from ${ref.backupId} of ${id})\n` : `${instance.id} restored from ${ref.backupId}; ${instance.state}\n`);
      return instance.state === 'running' ? 0 : 1;
    }
  }
}
