import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startK8sApiServer, type K8sApiServer } from './k8s-api-server';

let server: K8sApiServer;
beforeEach(async () => {
  server = await startK8sApiServer();
});
afterEach(async () => {
  await server.close();
});

function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const SECRETS = '/api/v1/namespaces/ns1/secrets';
const STS = '/apis/apps/v1/namespaces/ns1/statefulsets';

describe('k8s API test server', () => {
  it('answers with kind Status bodies: 401, 404 NotFound, 409 AlreadyExists, 409 Conflict', async () => {
    const anon = await fetch(`${server.url}${SECRETS}`);
    expect(anon.status).toBe(401);
    const missing = await call('GET', `${SECRETS}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'secrets "nope" not found', reason: 'NotFound', details: { name: 'nope', group: '', kind: 'secrets' }, code: 404,
    });
    expect((await call('POST', SECRETS, { metadata: { name: 's' }, stringData: { a: 'b' } })).status).toBe(201);
    const dup = await call('POST', SECRETS, { metadata: { name: 's' } });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ reason: 'AlreadyExists', message: 'secrets "s" already exists', code: 409 });
    const stale = await call('PUT', `${SECRETS}/s`, { metadata: { name: 's', resourceVersion: '1' } });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ reason: 'Conflict', code: 409 });
    const created = (await (await call('GET', `${SECRETS}/s`)).json()) as { data: Record<string, string> };
    expect(created.data).toEqual({ a: Buffer.from('b').toString('base64') });
  });

  it('applies merge, strategic-merge and JSON patches; refuses other content types with 415', async () => {
    await call('POST', STS, { metadata: { name: 'web' }, spec: { replicas: 0, template: { spec: { containers: [{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y:1' }] } } } });
    const smp = await call('PATCH', `${STS}/web`, { spec: { template: { spec: { containers: [{ name: 'b', image: 'y:2' }] } } } }, 'application/strategic-merge-patch+json');
    const merged = (await smp.json()) as { spec: { template: { spec: { containers: Array<{ name: string; image: string }> } } } };
    expect(merged.spec.template.spec.containers).toEqual([{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y:2' }]);
    const mp = await call('PATCH', `${STS}/web`, { spec: { template: { spec: { containers: [{ name: 'c', image: 'z' }] } } } }, 'application/merge-patch+json');
    expect(((await mp.json()) as typeof merged).spec.template.spec.containers).toEqual([{ name: 'c', image: 'z' }]);
    const jp = await call('PATCH', `${STS}/web`, [{ op: 'replace', path: '/spec/replicas', value: 0 }], 'application/json-patch+json');
    expect(jp.status).toBe(200);
    const apply = await call('PATCH', `${STS}/web`, {}, 'application/apply-patch+yaml');
    expect(apply.status).toBe(415);
    expect(await apply.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
  });

  it('streams watch events from a resourceVersion and sends a 410 ERROR event after compaction', async () => {
    const rv = server.store.resourceVersion;
    await call('POST', SECRETS, { metadata: { name: 'one', labels: { app: 'x' } } });
    await call('POST', SECRETS, { metadata: { name: 'two', labels: { app: 'y' } } });
    const ctrl = new AbortController();
    const res = await fetch(`${server.url}${SECRETS}?watch=1&labelSelector=app%3Dx&resourceVersion=${rv}`, { headers: { Authorization: `Bearer ${server.token}` }, signal: ctrl.signal });
    const reader = res.body!.getReader(); // a 200 watch always has a body
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(first.trim())).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'one' } } });
    server.dropWatches();
    ctrl.abort();
    server.store.compact();
    const expired = await (await fetch(`${server.url}${SECRETS}?watch=true&resourceVersion=${rv}`, { headers: { Authorization: `Bearer ${server.token}` } })).text();
    expect(JSON.parse(expired.trim())).toMatchObject({ type: 'ERROR', object: { kind: 'Status', reason: 'Expired', code: 410 } });
  });

  it('simulates the StatefulSet controller: pod, PVC, scale subresource and logs', async () => {
    await call('POST', STS, {
      metadata: { name: 'g' },
      spec: { replicas: 1, template: { metadata: { labels: { app: 'g' } }, spec: { containers: [{ name: 'gateway' }] } }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] },
    });
    expect(server.store.find('pods', 'ns1', 'g-0')).toBeDefined();
    expect(server.store.find('persistentvolumeclaims', 'ns1', 'data-g-0')).toBeDefined();
    server.setLog('ns1', 'g-0', 'gateway', 'a\nb\nc\n');
    expect(await (await call('GET', '/api/v1/namespaces/ns1/pods/g-0/log?container=gateway&tailLines=2')).text()).toBe('b\nc\n');
    const scaled = await call('PATCH', `${STS}/g/scale`, { spec: { replicas: 0 } }, 'application/merge-patch+json');
    expect(await scaled.json()).toMatchObject({ kind: 'Scale', spec: { replicas: 0 } });
    expect(server.store.find('pods', 'ns1', 'g-0')).toBeUndefined();
    expect(server.store.find('persistentvolumeclaims', 'ns1', 'data-g-0')).toBeDefined();
  });
});
