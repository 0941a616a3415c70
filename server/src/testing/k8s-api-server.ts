/**
 * Test support: a local HTTP server speaking the Kubernetes API paths the
 * Kubernetes driver uses, so the real `@kubernetes/client-node` runs against
 * it (point a kubeconfig at `url` with `insecure-skip-tls-verify: true`):
 * * `/api/v1/namespaces/{ns}/{services|secrets|persistentvolumeclaims|pods|serviceaccounts|configmaps}[/{name}]`
 * * `/apis/apps/v1/namespaces/{ns}/statefulsets[/{name}[/scale]]`
 * * `/apis/rbac.authorization.k8s.io/v1/…/{roles|rolebindings}`, `/apis/networking.k8s.io/v1/…/networkpolicies`
 * * `/apis/batch/v1/namespaces/{ns}/jobs[/{name}]`, and with `snapshots`
 *   `/apis/snapshot.storage.k8s.io/v1/namespaces/{ns}/volumesnapshots[/{name}]`
 * * `GET /apis`: the APIGroupList (discovery) of the groups served
 * * `/api/v1/namespaces/{ns}/pods/{name}/log` (text; `container`, `tailLines`, `previous`)
 * * list with `labelSelector`; `?watch=1|true` streams JSON lines
 *   `{"type":"ADDED|MODIFIED|DELETED","object":…}` from `resourceVersion`,
 *   or one `ERROR` event carrying a 410 Expired Status when it was compacted.
 * * PATCH with merge-patch, strategic-merge-patch or json-patch content types
 *   (anything else: 415); PUT checks `metadata.resourceVersion` (409 Conflict).
 * Errors are `kind: Status` bodies (NotFound, AlreadyExists, Conflict, …).
 * A bearer token is required when `token` is given.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { K8sStatusError, K8sStore, RESOURCES, type K8sObject, type StoreOptions, type WatchEventType } from './k8s-api-store';
import { PATCH_TYPES, type PatchType } from './k8s-patch';

export interface K8sRecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** A create's object as sent (tests read what a Job ran after it was deleted). */
  body?: K8sObject;
}

export interface K8sApiServerOptions extends StoreOptions {
  /** Required bearer token (default `test-token`). */
  token?: string;
  /** Serve snapshot.storage.k8s.io/v1 (VolumeSnapshots; listed by `GET /apis`); default false, as on a cluster without the CSI snapshot CRDs. */
  snapshots?: boolean;
}

export interface K8sApiServer {
  readonly url: string;
  readonly token: string;
  readonly store: K8sStore;
  readonly requests: K8sRecordedRequest[];
  /** Open watch streams right now. */
  readonly openWatches: number;
  /** Ends every open watch stream (an API server restart or a load balancer timeout). */
  dropWatches(): void;
  /** The next request matching method and path prefix fails with this Status. */
  failNext(method: string, pathPrefix: string, code: number, reason: string, message?: string): void;
  /** A kubeconfig (YAML) pointing at this server. */
  kubeconfig(namespace?: string): string;
  setLog(namespace: string, pod: string, container: string, text: string): void;
  close(): Promise<void>;
}

function parseSelector(selector: string | undefined): (o: K8sObject) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
    const ne = /^([^!=]+)!=(.*)$/.exec(t);
    if (ne) return (l: Record<string, string>) => l[ne[1] as string] !== ne[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(t);
    if (eq) return (l: Record<string, string>) => l[eq[1] as string] === eq[2];
    return (l: Record<string, string>) => t in l;
  });
  return (o) => terms.every((f) => f(o.metadata.labels ?? {}));
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const PATH = /^\/(?:api\/v1|apis\/([a-z0-9.-]+)\/(v1))\/namespaces\/([a-z0-9-]+)\/([a-z]+)(?:\/([a-z0-9.-]+)(?:\/([a-z]+))?)?$/;

const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';

export async function startK8sApiServer(opts: K8sApiServerOptions = {}): Promise<K8sApiServer> {
  const token = opts.token ?? 'test-token';
  const store = new K8sStore(opts);
  const requests: K8sRecordedRequest[] = [];
  const failures: Array<{ method: string; prefix: string; error: K8sStatusError }> = [];
  const watchResponses = new Set<ServerResponse>();

  function watch(req: IncomingMessage, res: ServerResponse, resource: string, ns: string, query: Record<string, string>): void {
    const matches = parseSelector(query.labelSelector);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders(); // like the API server: the client sees 200 before any event
    const write = (type: WatchEventType | 'ERROR', object: unknown): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const rvText = query.resourceVersion ?? '';
    if (rvText === '' || rvText === '0') {
      for (const o of store.list(resource, ns, matches).items) write('ADDED', o);
    } else {
      try {
        for (const e of store.eventsSince(resource, ns, Number(rvText))) if (matches(e.object)) write(e.type, e.object);
      } catch (err) {
        if (!(err instanceof K8sStatusError)) throw err;
        write('ERROR', err.toStatus());
        res.end();
        return;
      }
    }
    const watcher = { resource, namespace: ns, matches, push: write };
    store.watchers.add(watcher);
    watchResponses.add(res);
    const done = (): void => {
      store.watchers.delete(watcher);
      watchResponses.delete(res);
    };
    res.on('close', done);
    req.on('close', done);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://k8s.local');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const recorded: K8sRecordedRequest = { method, path: url.pathname, query, contentType };
    requests.push(recorded);
    if (req.headers.authorization !== `Bearer ${token}`) {
      throw new K8sStatusError(401, 'Unauthorized', 'Unauthorized');
    }
    const failAt = failures.findIndex((f) => f.method === method && url.pathname.startsWith(f.prefix));
    if (failAt >= 0) throw failures.splice(failAt, 1)[0]?.error;
    if (method === 'GET' && (url.pathname === '/apis' || url.pathname === '/apis/')) {
      const groups = [...new Set(Object.values(RESOURCES).map((r) => r.group))].filter((g) => g !== '' && (opts.snapshots || g !== SNAPSHOT_GROUP));
      const version = (g: string) => ({ groupVersion: `${g}/v1`, version: 'v1' });
      return sendJson(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((name) => ({ name, versions: [version(name)], preferredVersion: version(name) })) });
    }
    const m = PATH.exec(url.pathname);
    const resource = m?.[4] ?? '';
    const info = RESOURCES[resource];
    if (info?.group === SNAPSHOT_GROUP && !opts.snapshots) throw new K8sStatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (!m || !info || (m[1] ?? '') !== info.group) throw new K8sStatusError(404, 'NotFound', 'the server could not find the requested resource');
    const ns = m[3] as string;
    const name = m[5];
    const sub = m[6];

    if (name === undefined) {
      if (method === 'GET' && (query.watch === '1' || query.watch === 'true')) return watch(req, res, resource, ns, query);
      if (method === 'GET') {
        const { items, resourceVersion } = store.list(resource, ns, parseSelector(query.labelSelector));
        return sendJson(res, 200, { kind: `${info.kind}List`, apiVersion: info.group === '' ? 'v1' : `${info.group}/v1`, metadata: { resourceVersion }, items });
      }
      if (method === 'POST') {
        const body = JSON.parse(await readBody(req)) as K8sObject;
        recorded.body = body;
        return sendJson(res, 201, store.create(resource, ns, structuredClone(body)));
      }
      throw new K8sStatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }

    if (sub === 'log' && resource === 'pods' && method === 'GET') {
      const pod = store.get('pods', ns, name);
      const containers = ((pod.spec as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map((c) => c.name);
      const container = query.container ?? containers[0] ?? '';
      if (!containers.includes(container)) throw new K8sStatusError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
      const logs = store.logs.get(`${ns}/${name}/${container}`);
      let text = (query.previous === 'true' ? logs?.previous : logs?.current) ?? '';
      if (query.tailLines) text = text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').slice(-Number(query.tailLines)).map((l) => `${l}\n`).join('');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(text);
      return;
    }
    if (sub === 'scale' && resource === 'statefulsets') {
      const scaleOf = (sts: K8sObject) => ({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name, namespace: ns, uid: sts.metadata.uid, resourceVersion: sts.metadata.resourceVersion },
        spec: { replicas: (sts.spec as { replicas?: number }).replicas ?? 1 },
        status: { replicas: (sts.status as { replicas?: number } | undefined)?.replicas ?? 0 },
      });
      if (method === 'GET') return sendJson(res, 200, scaleOf(store.get(resource, ns, name)));
      if (method === 'PATCH' || method === 'PUT') {
        const body = JSON.parse(await readBody(req)) as { spec?: { replicas?: number }; metadata?: { resourceVersion?: string } };
        const current = store.get(resource, ns, name);
        if (method === 'PUT' && body.metadata?.resourceVersion && body.metadata.resourceVersion !== current.metadata.resourceVersion) {
          return sendJson(res, 409, new K8sStatusError(409, 'Conflict', `Operation cannot be fulfilled on statefulsets.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`).toStatus());
        }
        if (method === 'PATCH' && !PATCH_TYPES.includes(contentType as PatchType)) throw unsupported();
        const replicas = body.spec?.replicas;
        if (typeof replicas !== 'number' || replicas < 0) throw new K8sStatusError(422, 'Invalid', 'Scale.autoscaling "x" is invalid: spec.replicas: Invalid value');
        return sendJson(res, 200, scaleOf(store.patch(resource, ns, name, 'application/merge-patch+json', { spec: { replicas } })));
      }
    }
    if (sub !== undefined) throw new K8sStatusError(404, 'NotFound', 'the server could not find the requested resource');

    switch (method) {
      case 'GET':
        return sendJson(res, 200, store.get(resource, ns, name));
      case 'PUT':
        return sendJson(res, 200, store.replace(resource, ns, name, JSON.parse(await readBody(req)) as K8sObject));
      case 'PATCH': {
        if (!PATCH_TYPES.includes(contentType as PatchType)) throw unsupported();
        return sendJson(res, 200, store.patch(resource, ns, name, contentType as PatchType, JSON.parse(await readBody(req))));
      }
      case 'DELETE': {
        const raw = await readBody(req);
        const options = raw.trim() === '' ? {} : (JSON.parse(raw) as { gracePeriodSeconds?: number });
        const grace = query.gracePeriodSeconds !== undefined ? Number(query.gracePeriodSeconds) : options.gracePeriodSeconds;
        const deleted = store.delete(resource, ns, name, grace);
        if (resource === 'pods') return sendJson(res, 200, deleted);
        return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: info.group, kind: resource, uid: deleted.metadata.uid } });
      }
      default:
        throw new K8sStatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  const unsupported = () =>
    new K8sStatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json');

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof K8sStatusError) return sendJson(res, err.code, err.toStatus());
      if (err instanceof SyntaxError) return sendJson(res, 400, new K8sStatusError(400, 'BadRequest', `invalid JSON: ${err.message}`).toStatus());
      sendJson(res, 500, new K8sStatusError(500, 'InternalError', err instanceof Error ? err.message : String(err)).toStatus());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    store,
    requests,
    get openWatches() {
      return watchResponses.size;
    },
    dropWatches() {
      for (const res of watchResponses) res.end();
      watchResponses.clear();
    },
    failNext(method, prefix, code, reason, message) {
      failures.push({ method, prefix, error: new K8sStatusError(code, reason, message ?? reason) });
    },
    kubeconfig(namespace = 'default') {
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: test',
        '  cluster:',
        `    server: ${url}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: tester',
        '  user:',
        `    token: ${token}`,
        'contexts:',
        '- name: test',
        '  context:',
        '    cluster: test',
        '    user: tester',
        `    namespace: ${namespace}`,
        'current-context: test',
        '',
      ].join('\n');
    },
    setLog(namespace, pod, container, text) {
      const key = `${namespace}/${pod}/${container}`;
      store.logs.set(key, { ...store.logs.get(key), current: text });
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const res of watchResponses) res.end();
        watchResponses.clear();
        store.watchers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
