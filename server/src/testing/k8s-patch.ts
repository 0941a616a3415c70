/**
 * Test support for the Kubernetes API server: the three patch formats the
 * API server accepts on PATCH (`application/merge-patch+json` per RFC 7386,
 * `application/strategic-merge-patch+json` approximated as a merge patch
 * whose object lists keyed by `name` merge item by item, and
 * `application/json-patch+json` per RFC 6902 add/replace/remove/test).
 */
type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function namedList(v: Json): v is Array<Record<string, Json> & { name: string }> {
  return Array.isArray(v) && v.length > 0 && v.every((x) => isObject(x) && typeof x.name === 'string');
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (namedList(patch) && (namedList(target) || (Array.isArray(target) && target.length === 0))) {
    const out = (target as Array<Record<string, Json> & { name: string }>).map((x) => structuredClone(x));
    for (const item of patch) {
      if (item.$patch === 'delete') {
        const at = out.findIndex((x) => x.name === item.name);
        if (at >= 0) out.splice(at, 1);
        continue;
      }
      const at = out.findIndex((x) => x.name === item.name);
      if (at >= 0) out[at] = strategicMergePatch(out[at], item) as (typeof out)[number];
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be an array of operations');
  let doc = structuredClone(target);
  for (const op of ops as Array<{ op?: string; path?: string; value?: Json }>) {
    const parts = pointer(op.path ?? '');
    if (parts.length === 0) {
      if (op.op === 'add' || op.op === 'replace') doc = structuredClone(op.value);
      continue;
    }
    let parent: Json = doc;
    for (const p of parts.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(p)] : isObject(parent) ? parent[p] : undefined;
      if (parent === undefined) throw new Error(`path ${op.path ?? ''} does not exist`);
    }
    const last = parts.at(-1) as string;
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(idx, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[idx] = structuredClone(op.value);
      else if (op.op === 'remove') parent.splice(idx, 1);
      else if (op.op === 'test' && JSON.stringify(parent[idx]) !== JSON.stringify(op.value)) throw new Error('test operation failed');
    } else if (isObject(parent)) {
      if (op.op === 'add' || op.op === 'replace') {
        if (op.op === 'replace' && !(last in parent)) throw new Error(`path ${op.path ?? ''} does not exist`);
        parent[last] = structuredClone(op.value);
      } else if (op.op === 'remove') {
        if (!(last in parent)) throw new Error(`path ${op.path ?? ''} does not exist`);
        delete parent[last];
      } else if (op.op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error('test operation failed');
    } else {
      throw new Error(`path ${op.path ?? ''} does not exist`);
    }
  }
  return doc;
}

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export function applyPatch(type: PatchType, target: Json, patch: Json): Json {
  if (type === 'application/merge-patch+json') return mergePatch(target, patch);
  if (type === 'application/strategic-merge-patch+json') return strategicMergePatch(target, patch);
  return jsonPatch(target, patch);
}
