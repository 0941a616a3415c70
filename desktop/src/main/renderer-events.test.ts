import { describe, expect, it } from 'vitest';
import type { RendererEvent } from '../preload/ipc-channels';
import { createRendererEvents } from './renderer-events';

const open = (sessionId: string): RendererEvent => ({ type: 'deep-link', link: { kind: 'open', sessionId } });

describe('renderer events', () => {
  it('queues until the page listens, then sends directly', () => {
    const sent: RendererEvent[] = [];
    const events = createRendererEvents({ send: (event) => sent.push(event) });
    events.dispatch(open('s1'));
    events.dispatch({ type: 'sign-out' });
    expect(sent).toEqual([]);
    expect(events.take()).toEqual([open('s1'), { type: 'sign-out' }]);
    expect(events.take()).toEqual([]);
    events.dispatch(open('s2'));
    expect(sent).toEqual([open('s2')]);
  });

  it('queues again after the page goes away, keeping only the newest', () => {
    const sent: RendererEvent[] = [];
    const events = createRendererEvents({ send: (event) => sent.push(event), maxQueued: 2 });
    events.take();
    events.detach();
    events.dispatch(open('a'));
    events.dispatch(open('b'));
    events.dispatch(open('c'));
    expect(sent).toEqual([]);
    expect(events.take()).toEqual([open('b'), open('c')]);
  });

  it('never queues live events (download progress): only sent while the page listens', () => {
    const sent: RendererEvent[] = [];
    const events = createRendererEvents({ send: (event) => sent.push(event) });
    const progress: RendererEvent = { type: 'update-state', state: { kind: 'downloading', currentVersion: '1.0.0', version: '1.1.0', percent: 5, transferred: 5, total: 100 } };
    events.dispatch(progress, { live: true });
    events.dispatch({ type: 'sign-out' });
    expect(events.take()).toEqual([{ type: 'sign-out' }]);
    events.dispatch(progress, { live: true });
    expect(sent).toEqual([progress]);
  });
});
