/**
 * `autoclaw instances create|list|start|stop|delete --data DIR`: through the
 * running manager (as the operator, so its supervisor and events see every
 * step), or straight on its database and the local driver when none runs.
 * Gateways started here are detached: they keep running after the command
 * ends, and the manager re-adopts them when it starts.
 */
import { AppError, EmailSchema } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import { parseDataDir, UsageError } from '../gateway';
import {
  createInstanceService,
  createLocalDriver,
  findLiveManager,
  listStoredInstances,
  loadManagerKeys,
  migrateInstances,
  openOfflineManager,
  openOsKeychain,
  operatorClient,
  parseManagerConfig,
} from '../manager';
import type { InstanceService, OfflineManager } from '../manager';
import { parseFlags } from './args';
import type { CliIO } from './io';

const ACTIONS = ['create', 'list', 'start', 'stop', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

function stderrLogger(io: CliIO) {
  const line = (level: string) => (msg: string) => void io.stderr.write(`${JSON.stringify({ level, msg })}\n`);
  return { debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };
}

/** The instance service on the data directory, with no manager running (local driver only). */
async function withOffline<T>(dataDir: string, io: CliIO, fn: (service: InstanceService, offline: OfflineManager) => Promise<T>): Promise<T> {
  const logger = stderrLogger(io);
  const config = parseManagerConfig(['--data', dataDir]);
  const offline = openOfflineManager(dataDir, logger);
  let service: InstanceService | null = null;
  try {
    const keys = loadManagerKeys({ dataDir, store: config.masterKeyStore, keychain: config.masterKeyStore === 'file' ? null : openOsKeychain(), logger });
    const driver = createLocalDriver({ dataDir });
    service = createInstanceService({ db: offline.db, driver, keys, audit: offline.audit, logger });
    for (const instance of service.list()) {
      if (instance.driver !== 'local') throw new AppError('NOT_CONFIGURED', `instance ${instance.id} runs on ${instance.driver}; start the manager to act on it`);
    }
    return await fn(service, offline);
  } finally {
    await service?.close();
    offline.close();
  }
}

/** Listing needs neither the master key nor a driver: the rows as stored. */
function listOffline(dataDir: string, io: CliIO): Instance[] {
  const offline = openOfflineManager(dataDir, stderrLogger(io));
  try {
    migrateInstances(offline.db);
    return listStoredInstances(offline.db);
  } finally {
    offline.close();
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

async function act(action: Action, dataDir: string, arg: string | undefined, io: CliIO): Promise<Instance[] | Instance | null> {
  const running = await findLiveManager(dataDir);
  const client = running ? operatorClient(dataDir, running, 120_000) : null;
  switch (action) {
    case 'list':
      if (client) return client.query<Instance[]>('instances.operator.list');
      return listOffline(dataDir, io);
    case 'create': {
      const owner = arg as string;
      if (client) return client.mutation<Instance>('instances.operator.create', { owner });
      return withOffline(dataDir, io, async (s, offline) => {
        if (!offline.accounts.userByEmail(owner)) throw new AppError('NOT_FOUND', `no account ${owner} (make it with "autoclaw users create")`);
        return s.provision(owner, { actor: 'operator' });
      });
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
      return withOffline(dataDir, io, async (s) => {
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
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, owner: { type: 'string' }, json: { type: 'boolean' } }, 2);
  const [action, id] = positionals;
  if (!(ACTIONS as readonly string[]).includes(action ?? '')) {
    throw new UsageError(action === undefined ? `say one of ${ACTIONS.join(', ')}` : `unknown action "${action.slice(0, 40)}"`);
  }
  const verb = action as Action;
  const dataDir = parseDataDir(values.data);
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

  const result = await act(verb, dataDir, arg, io);
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
