import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { managerRbacManifests, managerRbacRules } from './rbac';
import { imageFor, namesFor } from './options';

describe('namesFor', () => {
  it('keeps a short DNS-safe id readable', () => {
    const n = namesFor('3f2a9c1e-7b4d-4e0a-9c55-0d1e2f3a4b5c');
    expect(n.statefulSet).toBe('autoclaw-3f2a9c1e-7b4d-4e0a-9c55-0d1e2f3a4b5c');
    expect(n.pvc).toBe(`data-${n.statefulSet}-0`);
    expect(n.idLabel).toBe('3f2a9c1e-7b4d-4e0a-9c55-0d1e2f3a4b5c');
  });

  it('hashes ids that are not DNS-safe or too long, within the StatefulSet limit of 52', () => {
    const a = namesFor('User_Instance.ONE');
    const b = namesFor('user-instance-one');
    expect(a.statefulSet).not.toBe(b.statefulSet);
    expect(a.statefulSet).toMatch(/^autoclaw-user-instance-one-[0-9a-f]{8}$/);
    const long = namesFor('x'.repeat(150));
    expect(long.statefulSet.length).toBeLessThanOrEqual(52);
    expect(long.idLabel.length).toBeLessThanOrEqual(63);
    expect(namesFor('!!!').statefulSet).toMatch(/^autoclaw-[0-9a-f]{8}$/);
    expect(() => namesFor('')).toThrow(AppError);
  });
});

describe('imageFor', () => {
  it('tags the repository with the version unless a tag or digest is pinned', () => {
    expect(imageFor('ghcr.io/autoclaw/gateway', '1.2.3')).toBe('ghcr.io/autoclaw/gateway:1.2.3');
    expect(imageFor('localhost:5000/gw', '1.2.3')).toBe('localhost:5000/gw:1.2.3');
    expect(imageFor('gw:edge', '1.2.3')).toBe('gw:edge');
    expect(imageFor('gw@sha256:abc', '1.2.3')).toBe('gw@sha256:abc');
  });
});

describe('manager RBAC', () => {
  it('holds every verb it grants to the sidecar (Kubernetes refuses escalation)', () => {
    const rules = managerRbacRules();
    const can = (resource: string, verb: string) => rules.some((r) => r.resources?.includes(resource) && r.verbs.includes(verb));
    for (const verb of ['get', 'update', 'patch']) expect(can('secrets', verb)).toBe(true);
    for (const verb of ['get', 'create', 'patch']) expect(can('events', verb)).toBe(true);
    for (const [res, verb] of [['statefulsets/scale', 'patch'], ['pods', 'watch'], ['pods/log', 'get'], ['persistentvolumeclaims', 'delete'], ['roles', 'create']] as const) {
      expect(can(res, verb)).toBe(true);
    }
    const [role, binding] = managerRbacManifests('autoclaw', 'manager', 'autoclaw-system');
    expect(role.metadata?.namespace).toBe('autoclaw');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'manager', namespace: 'autoclaw-system' }]);
  });
});
