/**
 * Test support: a kubelet (and CSI driver) for the local Kubernetes API
 * server that RUNS what the pods say, on this machine. For each pod of the
 * store it starts the container's args as a process (the gateway image's
 * tag maps to a command through `commandFor`), with every volume a local
 * directory: a claim is `ROOT/volumes/<claim>` (kept across pods, like a
 * PersistentVolume), a Secret's items are files written with mode 0600, an
 * emptyDir a fresh directory; args that name a mount path are rewritten to
 * the directory, `--host` to 127.0.0.1 and `--port` to the port of the pod's
 * Service (`serviceUrl` gives the driver `http://127.0.0.1:PORT`). A
 * StatefulSet pod is marked ready while /readyz answers 200 (the readiness
 * probe); a process that exits is restarted (restartCount+1, its log kept as
 * `previous`). A Job's pod runs to its end and `finishJobPod` reports the exit
 * code. A VolumeSnapshot copies its claim's directory and becomes readyToUse;
 * a claim whose dataSource is a snapshot starts as a copy of it. A real
 * cluster schedules onto nodes, pulls images, isolates with namespaces and
 * cgroups, and snapshots through the CSI driver; none of that is played here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { K8sApiServer } from './k8s-api-server';
import type { K8sObject } from './k8s-api-store';

interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ secretRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
}
interface PodSpec {
  containers?: Container[];
  volumes?: Volume[];
  subdomain?: string;
}

export interface KubeletOptions {
  api: K8sApiServer;
  namespace: string;
  /** Where volumes and per-pod files live. */
  root: string;
  /** The command (argv before the container's args) that runs an image; null: the pod never starts. */
  commandFor(image: string): string[] | null;
  /** Extra environment for every process (e.g. test switches). */
  env?: Record<string, string>;
  /** Readiness probe period (default 50 ms). */
  probeMs?: number;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  stopping: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Kubelet {
  /** For KubernetesDriverOptions.serviceUrl: the loopback address of a Service's pod. */
  serviceUrl(service: string): string;
  /** Processes started so far, by pod name (restarts included). */
  readonly starts: Map<string, number>;
  /** Pods whose process runs now. */
  running(): string[];
  close(): Promise<void>;
}

export async function startKubelet(o: KubeletOptions): Promise<Kubelet> {
  const { api, namespace } = o;
  const store = api.store;
  const ports = new Map<string, number>();
  const spare: number[] = [];
  for (let i = 0; i < 8; i++) spare.push(await freePort());
  const procs = new Map<string, Running>();
  const starts = new Map<string, number>();
  const logs = new Map<string, string>();
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  const probes = new Set<NodeJS.Timeout>();

  const volumeDir = (claim: string) => join(o.root, 'volumes', claim);
  const snapshotDir = (name: string) => join(o.root, 'snapshots', name);
  const portOf = (service: string): number => {
    let p = ports.get(service);
    if (p === undefined) {
      p = spare.shift();
      if (p === undefined) throw new Error('kubelet: no spare port left');
      ports.set(service, p);
    }
    return p;
  };

  function secretData(name: string): Record<string, Buffer> {
    const secret = store.find('secrets', namespace, name);
    const data = (secret?.data ?? {}) as Record<string, string>;
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  }

  function appendLog(pod: string, text: string): void {
    const next = (logs.get(pod) ?? '') + text;
    logs.set(pod, next);
    api.setLog(namespace, pod, 'gateway', next);
  }

  async function run(pod: K8sObject): Promise<void> {
    const name = pod.metadata.name;
    const spec = (pod.spec ?? {}) as PodSpec;
    const container = spec.containers?.[0];
    if (!container) return;
    const isJob = (pod.metadata.ownerReferences ?? []).some((r) => r.kind === 'Job');
    const command = o.commandFor(container.image ?? '');
    if (!command) return; // an image that cannot be pulled: the pod stays Pending
    const podDir = join(o.root, 'pods', name);
    rmSync(podDir, { recursive: true, force: true });
    const mounts = new Map<string, string>();
    for (const v of spec.volumes ?? []) {
      let dir: string;
      if (v.persistentVolumeClaim) dir = volumeDir(v.persistentVolumeClaim.claimName);
      else if (v.secret) {
        dir = join(podDir, v.name);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const data = secretData(v.secret.secretName);
        for (const item of v.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }))) {
          const value = data[item.key];
          if (value) writeFileSync(join(dir, item.path), value, { mode: 0o600 });
        }
      } else dir = join(podDir, v.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      mounts.set(v.name, dir);
    }
    const paths = (container.volumeMounts ?? []).map((m) => ({ at: m.mountPath, dir: mounts.get(m.name) ?? '' })).sort((a, b) => b.at.length - a.at.length);
    const port = spec.subdomain ? portOf(spec.subdomain) : 0;
    const args = (container.args ?? []).map((arg, i, all) => {
      if (all[i - 1] === '--host') return '127.0.0.1';
      if (all[i - 1] === '--port') return String(port);
      for (const p of paths) if (arg === p.at || arg.startsWith(`${p.at}/`)) return p.dir + arg.slice(p.at.length);
      return arg;
    });
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...o.env };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) {
        const v = secretData(e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
        if (v) env[e.name] = v.toString();
      }
    }
    for (const from of container.envFrom ?? []) {
      if (from.secretRef) for (const [k, v] of Object.entries(secretData(from.secretRef.name))) env[k] = v.toString();
    }
    const [exe, ...pre] = command;
    const child = spawn(exe as string, [...pre, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    starts.set(name, (starts.get(name) ?? 0) + 1);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry: Running = { child, exited, stopping: false };
    procs.set(name, entry);
    child.stdout?.on('data', (b: Buffer) => appendLog(name, b.toString()));
    child.stderr?.on('data', (b: Buffer) => appendLog(name, b.toString()));
    if (!isJob && store.find('pods', namespace, name)) {
      const p = store.get('pods', namespace, name);
      p.status = { ...(p.status as object), phase: 'Running' };
      store.replace('pods', namespace, name, p);
      probe(name, port, entry);
    }
    child.once('exit', (code) => {
      if (procs.get(name) === entry) procs.delete(name);
      if (entry.stopping || closed) return;
      if (isJob) {
        store.finishJobPod(namespace, name, code ?? 1, (logs.get(name) ?? '').trim().split('\n').at(-1) ?? '');
        return;
      }
      // The container died: the kubelet restarts it.
      if (!store.find('pods', namespace, name)) return;
      store.crashContainer(namespace, name, 'gateway', code ?? 1);
      logs.set(name, '');
      const again = store.find('pods', namespace, name);
      if (again) enqueue(() => run(again));
    });
  }

  function probe(name: string, port: number, entry: Running): void {
    let ready = false;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      if (entry.stopping || closed || procs.get(name) !== entry) {
        clearInterval(timer);
        probes.delete(timer);
        return;
      }
      busy = true;
      fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) })
        .then((r) => r.ok, () => false)
        .then((ok) => {
          if (ok !== ready && procs.get(name) === entry && store.find('pods', namespace, name)) {
            ready = ok;
            store.setPodReady(namespace, name, ok);
          }
        })
        .finally(() => {
          busy = false;
        });
    }, o.probeMs ?? 50);
    probes.add(timer);
  }

  async function kill(name: string): Promise<void> {
    const entry = procs.get(name);
    if (!entry) return;
    entry.stopping = true;
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 5_000);
    await entry.exited;
    clearTimeout(timer);
  }

  function enqueue(fn: () => Promise<void> | void): void {
    queue = queue.then(fn).catch((err: unknown) => {
      if (!closed) console.error('kubelet:', err);
    });
  }

  function onEvent(resource: string, type: string, obj: K8sObject): void {
    const name = obj.metadata.name;
    if (resource === 'pods') {
      if (type === 'DELETED' || obj.metadata.deletionTimestamp) enqueue(() => kill(name));
      else if (type === 'ADDED') {
        enqueue(async () => {
          await kill(name); // an earlier pod of the same name
          const pod = store.find('pods', namespace, name);
          if (pod && pod.metadata.uid === obj.metadata.uid && !closed) await run(pod);
        });
      }
    } else if (resource === 'volumesnapshots' && type === 'ADDED') {
      enqueue(() => {
        const claim = (obj.spec as { source?: { persistentVolumeClaimName?: string } }).source?.persistentVolumeClaimName ?? '';
        rmSync(snapshotDir(name), { recursive: true, force: true });
        mkdirSync(volumeDir(claim), { recursive: true });
        cpSync(volumeDir(claim), snapshotDir(name), { recursive: true });
        const snap = store.find('volumesnapshots', namespace, name);
        if (snap) store.replace('volumesnapshots', namespace, name, { ...snap, status: { readyToUse: true, creationTime: new Date().toISOString() } });
      });
    } else if (resource === 'persistentvolumeclaims') {
      const source = (obj.spec as { dataSource?: { kind?: string; name?: string } }).dataSource;
      if (type === 'ADDED' && source?.kind === 'VolumeSnapshot' && source.name) {
        const from = snapshotDir(source.name);
        enqueue(() => {
          rmSync(volumeDir(name), { recursive: true, force: true });
          if (existsSync(from)) cpSync(from, volumeDir(name), { recursive: true });
          else mkdirSync(volumeDir(name), { recursive: true });
          // The live gateway's runtime file names its address; in a cluster that is another pod's network
          // namespace (the clone's gateway finds nothing there), here it is this machine's: drop it.
          rmSync(join(volumeDir(name), 'runtime.json'), { force: true });
        });
      }
      if (type === 'DELETED') enqueue(() => rmSync(volumeDir(name), { recursive: true, force: true }));
    }
  }

  const watchers = ['pods', 'volumesnapshots', 'persistentvolumeclaims'].map((resource) => ({
    resource,
    namespace,
    matches: () => true,
    push: (type: string, obj: K8sObject) => onEvent(resource, type, obj),
  }));
  for (const w of watchers) store.watchers.add(w);
  // Pods that exist already.
  for (const pod of store.list('pods', namespace).items) onEvent('pods', 'ADDED', pod);

  return {
    serviceUrl: (service) => `http://127.0.0.1:${portOf(service)}`,
    starts,
    running: () => [...procs.keys()],
    async close() {
      closed = true;
      for (const w of watchers) store.watchers.delete(w);
      for (const t of probes) clearInterval(t);
      await Promise.all([...procs.keys()].map(kill));
      await queue;
    },
  };
}
