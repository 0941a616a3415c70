/**
 * The manager's own Kubernetes manifests (build/kubernetes/*.yaml), checked
 * the way kubeconform --strict would: every object against the Kubernetes
 * OpenAPI schemas (kubernetes-models' validators: types, required fields,
 * formats, enums) and for fields no schema has (walked over
 * @kubernetes/client-node's typed models: a misspelt field fails); then what
 * the deployment promises: three replicas, a disruption budget, probes,
 * non-root read-only pods, secrets from Secrets, arguments the manager
 * accepts, and a Role that never drifts from managerRbacRules().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseManagerConfig } from '../../config';
import { REPO_ROOT } from '../local/test-support';
import { managerRbacRules } from './rbac';

type Doc = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
const DIR = join(REPO_ROOT, 'build/kubernetes');

function loadDocs(): Array<{ file: string; doc: Doc }> {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) => (loadAll(readFileSync(join(DIR, file), 'utf8')) as Doc[]).filter(Boolean).map((doc) => ({ file, doc })));
}

/** kubernetes-models' class for apiVersion/kind (its validate() checks the OpenAPI schema). */
async function schemaCheck(doc: Doc): Promise<void> {
  const path = `kubernetes-models/${doc.apiVersion.includes('/') ? doc.apiVersion : `v1`}/${doc.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[doc.kind];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

interface Attr {
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attr[] };
const MODELS = k8s as unknown as Record<string, ModelClass | undefined>;

/** Every field of `value` exists in the typed model `type` (recursively); returns the unknown ones as paths. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1] ?? '', `${path}[${i}]`)) : [`${path} (not a list)`];
  if (type.startsWith('{ [key: string]: ')) {
    const inner = type.slice('{ [key: string]: '.length, -'; }'.length);
    return typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, inner, `${path}.${k}`)) : [`${path} (not a map)`];
  }
  const model = MODELS[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function') return []; // string, number, IntOrString, any…
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path} (not an object)`];
  const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, v]) => {
    const t = attrs.get(key);
    return t === undefined ? [`${path}.${key}`] : unknownFields(v, t, `${path}.${key}`);
  });
}

function strictCheck(doc: Doc): string[] {
  const version = doc.apiVersion.split('/').pop() ?? '';
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${doc.kind}`;
  if (!MODELS[type]) return [`no model ${type}`];
  return unknownFields(doc, type, doc.kind);
}

const docs = loadDocs();
const find = <T = Doc>(kind: string, name = 'autoclaw-manager'): T => {
  const hit = docs.find((d) => d.doc.kind === kind && d.doc.metadata.name === name);
  if (!hit) throw new Error(`no ${kind} ${name}`);
  return hit.doc as unknown as T;
};

describe('build/kubernetes', () => {
  it('holds the Deployment, Service, PodDisruptionBudget, RBAC and the Secrets, all in one namespace', () => {
    const kinds = docs.map((d) => d.doc.kind).sort();
    expect(kinds).toEqual(['Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Secret', 'Secret', 'Service', 'ServiceAccount']);
    expect(new Set(docs.map((d) => d.doc.metadata.namespace))).toEqual(new Set(['autoclaw']));
  });

  it.each(docs.map((d) => [`${d.file}: ${d.doc.kind} ${d.doc.metadata.name}`, d.doc] as const))('%s validates against the Kubernetes schema, strictly', async (_name, doc) => {
    await schemaCheck(doc);
    expect(strictCheck(doc)).toEqual([]);
  });

  it('fails on an invalid field: a misspelt one, a wrong type, a bad quantity', async () => {
    const deployment = structuredClone(find('Deployment'));
    const misspelt = structuredClone(deployment) as Doc & { spec: Record<string, unknown> };
    misspelt.spec['replica'] = 3;
    expect(strictCheck(misspelt)).toEqual(['Deployment.spec.replica']);
    const nested = structuredClone(deployment) as unknown as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    (nested.spec.template.spec.containers[0] as Record<string, unknown>)['readinesProbe'] = {};
    expect(strictCheck(nested as unknown as Doc)).toEqual(['Deployment.spec.template.spec.containers[0].readinesProbe']);
    const wrongType = structuredClone(deployment) as Doc & { spec: Record<string, unknown> };
    wrongType.spec['replicas'] = 'three';
    await expect(schemaCheck(wrongType)).rejects.toThrow(/replicas must be integer/);
    const quantity = structuredClone(deployment) as unknown as { spec: { template: { spec: { containers: Array<{ resources: { limits: Record<string, string> } }> } } } };
    (quantity.spec.template.spec.containers[0] as { resources: { limits: Record<string, string> } }).resources.limits['memory'] = 'lots';
    await expect(schemaCheck(quantity as unknown as Doc)).rejects.toThrow();
  });

  it('runs three non-root, read-only replicas with probes on /healthz and /readyz, spread and budgeted', () => {
    const d = find<k8s.V1Deployment>('Deployment');
    expect(d.spec?.replicas).toBe(3);
    const pod = d.spec?.template.spec;
    const c = pod?.containers[0];
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(c?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c?.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c?.readinessProbe?.httpGet?.path).toBe('/readyz');
    const labels = d.spec?.template.metadata?.labels ?? {};
    const pdb = find<k8s.V1PodDisruptionBudget>('PodDisruptionBudget');
    const svc = find<k8s.V1Service>('Service');
    for (const selector of [pdb.spec?.selector?.matchLabels ?? {}, svc.spec?.selector ?? {}, d.spec?.selector.matchLabels ?? {}]) {
      expect(Object.keys(selector).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
    }
    expect(pdb.spec?.minAvailable).toBe(2);
    expect(c?.ports?.map((p) => p.name)).toContain(svc.spec?.ports?.[0]?.targetPort);
    expect(c?.ports?.map((p) => p.name)).toContain(c?.readinessProbe?.httpGet?.port);
    // Every writable path is a volume.
    expect(c?.volumeMounts?.map((m) => m.mountPath).sort()).toEqual(['/tmp', '/var/lib/autoclaw']);
  });

  it('takes the database URL, the signing key and the metrics token from Secrets, and its arguments are ones the manager accepts', () => {
    const d = find<k8s.V1Deployment>('Deployment');
    const c = d.spec?.template.spec?.containers[0];
    const secrets = find<k8s.V1Secret>('Secret');
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e]));
    for (const name of ['AUTOCLAW_DATABASE_URL', 'AUTOCLAW_MANAGER_SIGNING_KEY', 'AUTOCLAW_METRICS_TOKEN']) {
      const ref = env[name]?.valueFrom?.secretKeyRef;
      expect(ref?.name, name).toBe('autoclaw-manager');
      expect(Object.keys(secrets.stringData ?? {}), name).toContain(ref?.key);
    }
    // The master key's Secret is the one the driver reads (and makes when missing).
    expect(find<k8s.V1Secret>('Secret', 'autoclaw-manager-master-key').stringData?.['master-key']).toBeDefined();
    const [command, ...args] = c?.args ?? [];
    expect(command).toBe('manager');
    const config = parseManagerConfig(args, {
      AUTOCLAW_DATABASE_URL: 'postgres://autoclaw:pw@postgres:5432/autoclaw',
      AUTOCLAW_METRICS_TOKEN: 'a-metrics-token-of-length',
      AUTOCLAW_MASTER_KEY_STORE: 'auto',
    });
    expect(config).toMatchObject({ driver: 'kubernetes', host: '0.0.0.0', port: 18780, database: { engine: 'postgres' }, kubernetes: { inCluster: true, namespace: 'autoclaw' } });
  });

  it("grants exactly managerRbacRules() (sleep and wake's statefulsets/scale included) to the Deployment's service account", () => {
    const role = find<k8s.V1Role>('Role');
    expect(role.rules).toEqual(managerRbacRules());
    expect(role.rules?.some((r) => r.resources?.includes('statefulsets/scale') && r.verbs.includes('patch'))).toBe(true);
    const binding = find<k8s.V1RoleBinding>('RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata?.name });
    const sa = find<k8s.V1ServiceAccount>('ServiceAccount');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata?.name, namespace: 'autoclaw' }]);
    expect(find<k8s.V1Deployment>('Deployment').spec?.template.spec?.serviceAccountName).toBe(sa.metadata?.name);
  });
});
