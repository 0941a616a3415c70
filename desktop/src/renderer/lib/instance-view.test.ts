import { describe, expect, it } from 'vitest';
import { INSTANCE_STATES } from '@autoclaw/shared';
import { controlsFor, isLive, stateView } from './instance-view';

describe('instance view', () => {
  it('has a label and a sentence for every lifecycle state', () => {
    for (const state of INSTANCE_STATES) {
      expect(stateView(state).label.length).toBeGreaterThan(0);
      expect(stateView(state).text.length).toBeGreaterThan(10);
    }
  });

  it('offers start only when stopped or failed, stop while it runs', () => {
    expect(controlsFor('stopped')).toEqual({ start: true, stop: false, delete: true });
    expect(controlsFor('failed')).toEqual({ start: true, stop: true, delete: true });
    expect(controlsFor('running')).toEqual({ start: false, stop: true, delete: true });
    expect(controlsFor('provisioning')).toEqual({ start: false, stop: false, delete: true });
    expect(controlsFor('deleting')).toEqual({ start: false, stop: false, delete: false });
  });

  it('is live while running or degraded', () => {
    expect(INSTANCE_STATES.filter(isLive)).toEqual(['running', 'degraded']);
  });
});
