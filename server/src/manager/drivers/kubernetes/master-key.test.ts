import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { startK8sApiServer, type K8sApiServer } from '../../../testing/k8s-api-server';
import { loadKubernetesMasterKey, MASTER_KEY_SECRET } from './master-key';

let dir: string;
let server: K8sApiServer;
let kubeconfigPath: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k8s-mk-'));
  server = await startK8sApiServer();
  kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, server.kubeconfig('autoclaw'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadKubernetesMasterKey', () => {
  it('creates the key once, then reads the same key', async () => {
    const first = await loadKubernetesMasterKey({ kubeconfigPath, namespace: 'autoclaw' });
    expect(first.created).toBe(true);
    expect(first.key).toHaveLength(32);
    const again = await loadKubernetesMasterKey({ kubeconfigPath, namespace: 'autoclaw' });
    expect(again).toEqual({ key: first.key, created: false });
    expect(server.store.find('secrets', 'autoclaw', MASTER_KEY_SECRET)?.immutable).toBe(true);
  });

  it('reads the winner\'s key when another manager created it first (409)', async () => {
    const theirs = Buffer.alloc(32, 9);
    server.failNext('GET', `/api/v1/namespaces/autoclaw/secrets/${MASTER_KEY_SECRET}`, 404, 'NotFound');
    server.store.create('secrets', 'autoclaw', { metadata: { name: MASTER_KEY_SECRET }, data: { 'master-key': theirs.toString('base64') } });
    expect(await loadKubernetesMasterKey({ kubeconfigPath, namespace: 'autoclaw' })).toEqual({ key: theirs, created: false });
  });

  it('refuses a malformed key', async () => {
    server.store.create('secrets', 'autoclaw', { metadata: { name: MASTER_KEY_SECRET }, data: { 'master-key': 'c2hvcnQ=' } });
    const err = await loadKubernetesMasterKey({ kubeconfigPath, namespace: 'autoclaw' }).catch((e: unknown) => e);
    expect(AppError.is(err, 'INTERNAL')).toBe(true);
  });
});
