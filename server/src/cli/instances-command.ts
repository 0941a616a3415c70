/**
 * `autoclaw instances create|list|start|stop|delete|primary --data DIR`: through the
 * running manager (as the operator, so its supervisor and events see every
 * step), or straight on its database and the local driver when none runs.
 * Gateways started here are detached: they keep running after the command
 * ends, and the manager re-adopts them when it starts.
 */
import { AppError, EmailSchema } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import { hostname } from 'node:os';
import { UsageError } from '../gateway';
import {
  createInstanceService,
  createLocalDriver,
  createReplicas,
  findLiveManager,
  listStoredInstances,
  loadManagerKeys,
  migrateInstances,
  migrateUpdates,
  openLeases,
  openOfflineManager,
  openOsKeychain,
  operatorClient,
  parseOperatorConfig,
} from '../manager';
import type { InstanceService, ManagerKeys, OfflineManager, OperatorConfig } from '../manager';
import { parseFlags } from './args';
import type { CliIO } from './io';

const ACTIONS = ['create', 'list', 'start', 'stop', 'delete', 'primary', 'update', 'rollback'] as const;
type Action = (typeof ACTIONS)[number];

function stderrLogger(io: CliIO) {
  const line = (level: string) => (msg: string) => void io.stderr.write(`${JSON.stringify({ level, msg })}\n`);
  return { debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };
}

const keychainOf = (config: OperatorConfig) => () => (config.masterKeyStore === 'file' ? null : openOsKeychain());

/** How long a replica's heartbeat counts as live (as the manager's own registry does). */
const REPLICA_LIVE_MS = 15_000;

/** The instance service on the manager's state, with no manager running here (local driver only). */
export async function withOffline<T>(config: OperatorConfig, io: CliIO, fn: (service: InstanceService, offline: OfflineManager, keys: ManagerKeys) => Promise<T>): Promise<T> {
  const logger = stderrLogger(io);
  const { dataDir } = config;
  const offline = await openOfflineManager(dataDir, logger, { database: config.database, keychain: keychainOf(config) });
  let service: InstanceService | null = null;
  try {
    const keys = loadManagerKeys({ dataDir, store: config.masterKeyStore, keychain: keychainOf(config)(), logger });
    const driver = createLocalDriver({ dataDir });
    // Replicas elsewhere on the same database: their operations and ours on one instance never overlap.
    const leases = await openLeases(offline.db, Date.now);
    // Gateways started here accept the UI of every live replica (none: the manager re-launches them when it starts).
    const origins = (await createReplicas(offline.db, Date.now).live(REPLICA_LIVE_MS)).flatMap((r) => r.origins);
    await migrateUpdates(offline.db);
    service = await createInstanceService({
      // Each instance runs the release it was updated to.
      versionOf: async (id) => (await offline.db.k.selectFrom('instance_releases').select('version').where('instance_id', '=', id).executeTakeFirst())?.version ?? null,
      db: offline.db,
      driver,
      keys,
      audit: offline.audit,
      logger,
      allowedOrigins: [...new Set(origins)],
      locks: { leases, holder: `${hostname()}/${process.pid}/cli` },
    });
    for (const instance of await service.list()) {
      if (instance.driver !== 'local') throw new AppError('NOT_CONFIGURED', `instance ${instance.id} runs on ${instance.driver}; start the manager to act on it`);
    }
    return await fn(service, offline, keys);
  } finally {
    await service?.close();
    await offline.close();
  }
}

/** Listing needs neither the master key nor a driver: the rows as stored. */
async function listOffline(config: OperatorConfig, io: CliIO): Promise<Instance[]> {
  const offline = await openOfflineManager(config.dataDir, stderrLogger(io), { database: config.database, keychain: keychainOf(config) });
  try {
    await migrateInstances(offline.db);
    return await listStoredInstances(offline.db);
  } finally {
    await offline.close();
  }
}

function printInstances(io: CliIO, instances: Instance[], json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(instances, null, 2)}\n`);
    return;
  }
  io.stdout.write('ID                  STATE         PID      PORT   OWNER\n');
  for (const i of instances) {
    io.stdout.write(`${i.id.padEnd(20)}${i.state.padEnd(14)}${String(i.pid ?? '-').padEnd(9)}${String(i.port ?? '-').padEnd(7)}${i.owner}\n`);
    if (i.state === 'failed' && i.lastError) io.stdout.write(`  ${i.lastError.split('\n')[0]}\n`);
  }
}

async function act(action: Exclude<Action, 'update' | 'rollback'>, config: OperatorConfig, arg: string | undefined, io: CliIO): Promise<Instance[] | Instance | null> {
  const running = await findLiveManager(config.dataDir);
  const client = running ? operatorClient(config.dataDir, running, 120_000) : null;
  switch (action) {
    case 'list':
      if (client) return client.query<Instance[]>('instances.operator.list');
      return listOffline(config, io);
    case 'create': {
      const owner = arg as string;
      if (client) return client.mutation<Instance>('instances.operator.create', { owner });
      return withOffline(config, io, async (s, offline) => {
        if (!(await offline.accounts.userByEmail(owner))) throw new AppError('NOT_FOUND', `no account ${owner} (make it with "autoclaw users create")`);
        return s.provision(owner, { actor: 'operator' });
      });
    }
    case 'primary': {
      const instanceId = arg as string;
      if (client) return client.mutation<Instance>('instances.operator.setPrimary', { instanceId });
      return withOffline(config, io, (s) => s.setPrimary(instanceId, { actor: 'operator' }));
    }
    case 'start':
    case 'stop':
    case 'delete': {
      const instanceId = arg as string;
      if (client) {
        if (action === 'delete') {
          await client.mutation('instances.operator.delete', { instanceId });
          return null;
        }
        return client.mutation<Instance>(`instances.operator.${action}`, { instanceId });
      }
      return withOffline(config, io, async (s) => {
        if (action === 'delete') {
          await s.delete(instanceId, { actor: 'operator' });
          return null;
        }
        return action === 'start' ? s.start(instanceId, { actor: 'operator' }) : s.stop(instanceId, { actor: 'operator' });
      });
    }
  }
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, database: { type: 'string' }, owner: { type: 'string' }, json: { type: 'boolean' }, version: { type: 'string' } }, 2);
  const [action, id] = positionals;
  if (!(ACTIONS as readonly string[]).includes(action ?? '')) {
    throw new UsageError(action === undefined ? `say one of ${ACTIONS.join(', ')}` : `unknown action "${action.slice(0, 40)}"`);
  }
  const verb = action as Action;
  if (verb === 'update' || verb === 'rollback') {
    const { runUpdate } = await import('./updates-command');
    return runUpdate(verb, args, io);
  }
  if (values.version !== undefined) throw new UsageError('--version goes with "instances update"');
  const config = parseOperatorConfig(values);
  let arg: string | undefined;
  if (verb === 'create') {
    if (id !== undefined) throw new UsageError('instances create takes --owner E, not an ID');
    if (values.owner === undefined) throw new UsageError('--owner E is required');
    const owner = EmailSchema.safeParse(values.owner);
    if (!owner.success) throw new UsageError(`--owner: ${owner.error.issues[0]?.message ?? 'not an email address'}`);
    arg = owner.data;
  } else if (verb === 'list') {
    if (id !== undefined) throw new UsageError('instances list takes no ID');
  } else {
    if (id === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`instances ${verb} needs an instance ID`);
    arg = id;
  }
  if (values.owner !== undefined && verb !== 'create') throw new UsageError('--owner goes with "instances create"');

  const result = await act(verb, config, arg, io);
  if (verb === 'list') {
    printInstances(io, result as Instance[], values.json === true);
  } else if (result === null) {
    io.stdout.write(values.json ? `${JSON.stringify({ deleted: arg })}\n` : `deleted ${arg}\n`);
  } else {
    const instance = result as Instance;
    if (values.json) io.stdout.write(`${JSON.stringify(instance, null, 2)}\n`);
    else {
      const live = instance.state === 'running' || instance.state === 'degraded';
      io.stdout.write(`${instance.id} ${instance.state}${live && instance.url ? ` ${instance.url}` : ''} (owner ${instance.owner})\n`);
    }
  }
  // A failed start still answers with the instance; say so with the exit code.
  return !Array.isArray(result) && result !== null && result.state === 'failed' ? 1 : 0;
}
