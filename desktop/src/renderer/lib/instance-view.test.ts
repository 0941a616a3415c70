import { describe, expect, it } from 'vitest';
import { INSTANCE_STATES } from '@autoclaw/shared';
import { controlsFor, isLive, keepAwakeText, stateView } from './instance-view';

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

  it('says an asleep instance wakes when you connect, and which channels keep one awake', () => {
    expect(stateView('sleeping').text).toMatch(/^Asleep — wakes when you connect\./);
    expect(controlsFor('sleeping')).toEqual({ start: false, stop: true, delete: true });
    expect(keepAwakeText(undefined)).toBeNull();
    expect(keepAwakeText(['discord'])).toBe('Stays awake for Discord: it needs a live connection.');
    expect(keepAwakeText(['telegram', 'discord', 'slack'])).toBe(
      'Stays awake for Telegram, Discord and Slack: they need a live connection. Telegram can sleep too when you set its webhook URL.',
    );
  });

  it('is live while running or degraded', () => {
    expect(INSTANCE_STATES.filter(isLive)).toEqual(['running', 'degraded']);
  });
});
