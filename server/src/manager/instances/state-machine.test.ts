import { describe, expect, it } from 'vitest';
import { AppError, INSTANCE_STATES } from '@autoclaw/shared';
import type { InstanceState } from '@autoclaw/shared';
import { assertTransition, canTransition, legalTransitions, TRANSITIONS } from './state-machine';

/** The table as the issue states it, written out independently of the code. */
const EXPECTED: Array<[InstanceState, InstanceState]> = [
  ['provisioning', 'starting'],
  ['provisioning', 'failed'],
  ['provisioning', 'deleting'],
  ['provisioning', 'sleeping'],
  ['starting', 'running'],
  ['starting', 'failed'],
  ['starting', 'stopping'],
  ['starting', 'deleting'],
  ['running', 'degraded'],
  ['running', 'starting'],
  ['running', 'stopping'],
  ['running', 'failed'],
  ['running', 'updating'],
  ['running', 'deleting'],
  ['degraded', 'running'],
  ['degraded', 'starting'],
  ['degraded', 'stopping'],
  ['degraded', 'failed'],
  ['degraded', 'deleting'],
  ['stopping', 'stopped'],
  ['stopping', 'failed'],
  ['stopping', 'deleting'],
  ['stopped', 'starting'],
  ['stopped', 'restoring'],
  ['stopped', 'deleting'],
  ['failed', 'starting'],
  ['failed', 'stopping'],
  ['failed', 'restoring'],
  ['failed', 'deleting'],
  ['updating', 'running'],
  ['updating', 'failed'],
  ['updating', 'deleting'],
  ['restoring', 'stopped'],
  ['restoring', 'failed'],
  ['restoring', 'deleting'],
  ['provisioning', 'restoring'],
  ['restoring', 'starting'],
  ['running', 'sleeping'],
  ['sleeping', 'starting'],
  ['sleeping', 'stopping'],
  ['sleeping', 'failed'],
  ['sleeping', 'deleting'],
];

describe('the instance state machine', () => {
  it('has exactly the legal transitions of the lifecycle, each with a reason', () => {
    const key = ([a, b]: [string, string]) => `${a}→${b}`;
    expect(legalTransitions().map(key).sort()).toEqual(EXPECTED.map(key).sort());
    for (const [from, to] of EXPECTED) {
      expect(canTransition(from, to)).toBe(true);
      expect(() => assertTransition(from, to)).not.toThrow();
      expect(TRANSITIONS[from][to]?.length).toBeGreaterThan(3);
    }
  });

  it('lets every state but deleting go to deleting, and nothing leave deleting', () => {
    for (const from of INSTANCE_STATES) {
      expect([from, canTransition(from, 'deleting')]).toEqual([from, from !== 'deleting']);
      expect(canTransition('deleting', from)).toBe(false);
    }
  });

  it('refuses every other move with a CONFLICT naming both states', () => {
    const legal = new Set(EXPECTED.map(([a, b]) => `${a}→${b}`));
    let illegal = 0;
    for (const from of INSTANCE_STATES) {
      for (const to of INSTANCE_STATES) {
        if (legal.has(`${from}→${to}`)) continue;
        illegal += 1;
        expect(canTransition(from, to)).toBe(false);
        let err: unknown;
        try {
          assertTransition(from, to, 'inst-x');
        } catch (e) {
          err = e;
        }
        expect(AppError.is(err, 'CONFLICT')).toBe(true);
        expect((err as AppError).message).toContain(`from ${from} to ${to}`);
        expect((err as AppError).details).toEqual({ from, to });
      }
    }
    expect(illegal).toBe(INSTANCE_STATES.length ** 2 - EXPECTED.length);
    // A few that matter: no skipping provisioning, no running from stopped without starting, no way back from deleting.
    for (const [from, to] of [['provisioning', 'running'], ['stopped', 'running'], ['stopped', 'stopping'], ['deleting', 'stopped'], ['failed', 'running'], ['running', 'running'], ['sleeping', 'running'], ['degraded', 'sleeping']] as const) {
      expect(() => assertTransition(from, to)).toThrow(AppError);
    }
  });
});
