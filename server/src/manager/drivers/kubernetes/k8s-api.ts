/**
 * The `@kubernetes/client-node` surface the driver uses, loaded on first use
 * (the generated client is large; a manager on the local driver never pays
 * for it), plus the mapping of its failures: an ApiException carries the HTTP
 * code and the API server's `kind: Status` body as text.
 */
import { AppError } from '@autoclaw/shared';
import type * as K8s from '@kubernetes/client-node';

export type { K8s };

export interface KubeClients {
  lib: typeof K8s;
  kc: K8s.KubeConfig;
  apps: K8s.AppsV1Api;
  core: K8s.CoreV1Api;
  rbac: K8s.RbacAuthorizationV1Api;
  net: K8s.NetworkingV1Api;
  batch: K8s.BatchV1Api;
  /** VolumeSnapshots (snapshot.storage.k8s.io) are custom resources. */
  custom: K8s.CustomObjectsApi;
  /** API discovery: which groups the API server serves. */
  apis: K8s.ApisApi;
  /** Per-call options that make a PATCH a JSON merge patch (the client's default is a JSON patch). */
  mergePatch: K8s.ConfigurationOptions;
}

export async function loadKubeClients(opts: { kubeconfigPath?: string; inCluster?: boolean; context?: string }): Promise<KubeClients> {
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  try {
    if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromCluster();
    if (opts.context) kc.setCurrentContext(opts.context);
  } catch (err) {
    throw new AppError('NOT_CONFIGURED', `kubernetes driver: cannot load the ${opts.kubeconfigPath ? 'kubeconfig' : 'in-cluster configuration'} (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (!kc.getCurrentCluster()) throw new AppError('NOT_CONFIGURED', 'kubernetes driver: the kubeconfig has no current cluster');
  return {
    lib,
    kc,
    apps: kc.makeApiClient(lib.AppsV1Api),
    core: kc.makeApiClient(lib.CoreV1Api),
    rbac: kc.makeApiClient(lib.RbacAuthorizationV1Api),
    net: kc.makeApiClient(lib.NetworkingV1Api),
    batch: kc.makeApiClient(lib.BatchV1Api),
    custom: kc.makeApiClient(lib.CustomObjectsApi),
    apis: kc.makeApiClient(lib.ApisApi),
    mergePatch: lib.setHeaderOptions('Content-Type', lib.PatchStrategy.MergePatch),
  };
}

export interface ApiFailure {
  code: number;
  /** The Status reason: NotFound, AlreadyExists, Conflict, Expired, Forbidden, … */
  reason: string;
  message: string;
}

/** The HTTP failure inside a client error, or null for a network failure or anything else. */
export function apiFailure(err: unknown): ApiFailure | null {
  if (err === null || typeof err !== 'object') return null;
  const e = err as { code?: unknown; body?: unknown; statusCode?: unknown; message?: unknown };
  const code = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : null;
  if (code === null) return null;
  let reason = '';
  let message = typeof e.message === 'string' ? e.message : `HTTP ${code}`;
  const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  if (body && typeof body === 'object') {
    const s = body as { reason?: unknown; message?: unknown };
    if (typeof s.reason === 'string') reason = s.reason;
    if (typeof s.message === 'string') message = s.message;
  }
  return { code, reason, message };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const isNotFound = (err: unknown): boolean => apiFailure(err)?.code === 404;
export const isAlreadyExists = (err: unknown): boolean => {
  const f = apiFailure(err);
  return f?.code === 409 && f.reason === 'AlreadyExists';
};
export const isConflict = (err: unknown): boolean => {
  const f = apiFailure(err);
  return f?.code === 409 && f.reason !== 'AlreadyExists';
};

/** A client failure as an AppError; `what` names the operation (never a secret). */
export function toAppError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const f = apiFailure(err);
  const details = { service: 'kubernetes', ...(f ? { status: f.code, reason: f.reason } : {}) };
  if (!f) {
    const why = err instanceof Error ? ((err as { code?: unknown }).code ?? err.message) : String(err);
    return new AppError('PROVIDER_UNAVAILABLE', `kubernetes: ${what}: API server unreachable (${String(why)})`, { cause: err, details });
  }
  const message = `kubernetes: ${what}: ${f.message}`;
  if (f.code === 404) return new AppError('NOT_FOUND', message, { cause: err, details });
  if (f.code === 409 || f.code === 410) return new AppError('CONFLICT', message, { cause: err, details });
  if (f.code === 401 || f.code === 403) {
    return new AppError('FORBIDDEN', `${message} (check the manager's RBAC: see managerRbacRules())`, { cause: err, details });
  }
  if (f.code === 429) return new AppError('RATE_LIMITED', message, { cause: err, details });
  if (f.code >= 400 && f.code < 500) return new AppError('BAD_REQUEST', message, { cause: err, details });
  return new AppError('PROVIDER_UNAVAILABLE', message, { cause: err, details });
}
