/**
 * On Kubernetes the manager's master key (which wraps every instance's data
 * key) lives in a Kubernetes Secret of the instances' namespace, not on the
 * manager's disk. Read it, or make it once: a random 32-byte key created with
 * `create`, so two managers starting together agree (the loser of the 409
 * race reads the winner's key). The key never reaches a log line.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import { isAlreadyExists, isNotFound, loadKubeClients, toAppError } from './k8s-api';

export const MASTER_KEY_SECRET = 'autoclaw-manager-master-key';
const FIELD = 'master-key';

export interface KubernetesMasterKeyOptions {
  kubeconfigPath?: string;
  inCluster?: boolean;
  context?: string;
  namespace: string;
  /** Secret name (default `autoclaw-manager-master-key`). */
  secretName?: string;
}

export async function loadKubernetesMasterKey(opts: KubernetesMasterKeyOptions): Promise<{ key: Buffer; created: boolean }> {
  const c = await loadKubeClients(opts);
  const name = opts.secretName ?? MASTER_KEY_SECRET;
  const namespace = opts.namespace;
  const read = async (): Promise<Buffer | null> => {
    try {
      const secret = await c.core.readNamespacedSecret({ name, namespace });
      const value = secret.data?.[FIELD];
      if (!value) throw new AppError('INTERNAL', `kubernetes: secret ${name} has no "${FIELD}" field`);
      const key = Buffer.from(value, 'base64');
      if (key.length !== 32) throw new AppError('INTERNAL', `kubernetes: secret ${name} does not hold a 32-byte key`);
      return key;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw toAppError(err, 'read the master key secret');
    }
  };
  const existing = await read();
  if (existing) return { key: existing, created: false };
  const key = randomBytes(32);
  try {
    await c.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'autoclaw' } }, type: 'Opaque', immutable: true, data: { [FIELD]: key.toString('base64') } },
    });
    return { key, created: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw toAppError(err, 'create the master key secret');
  }
  const winner = await read();
  if (!winner) throw new AppError('CONFLICT', `kubernetes: secret ${name} vanished while it was being created`);
  return { key: winner, created: false };
}
