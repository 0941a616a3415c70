/** The bundled Sonos skill: the real @svrooij/sonos against a local server speaking the speaker's UPnP SOAP endpoints. */
import { afterEach, describe, expect, it } from 'vitest';
import { startSonosSpeakerServer, type SonosSpeakerServer } from '../../testing';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(initial: Parameters<typeof startSonosSpeakerServer>[0] = {}): Promise<{ f: RuntimeFixture; speaker: SonosSpeakerServer }> {
  const speaker = await startSonosSpeakerServer(initial);
  cleanups.push(() => speaker.close());
  const f = runtimeFixture([], { bundled: ['sonos'], enable: ['sonos'] });
  cleanups.push(() => f.close());
  f.service.setSetting('sonos', 'speaker', `127.0.0.1:${speaker.port}`);
  return { f, speaker };
}

const TRACK = { title: 'So What', artist: 'Miles Davis', album: 'Kind of Blue', duration: '0:09:22' };

describe('sonos skill', () => {
  it('plays, says what is playing, pauses', async () => {
    const { f, speaker } = await setup({ track: TRACK, position: '0:01:05' });
    expect(await f.call('sonos_play', {})).toEqual({ ok: true, content: 'Playing.' });
    expect(speaker.state.transport).toBe('PLAYING');
    expect(await f.call('sonos_now_playing', {})).toEqual({ ok: true, content: 'So What — Miles Davis, Kind of Blue (playing, 0:01:05 of 0:09:22).' });
    expect(await f.call('sonos_pause', {})).toEqual({ ok: true, content: 'Paused.' });
    expect(speaker.state.transport).toBe('PAUSED_PLAYBACK');
    expect(speaker.actions).toEqual(['AVTransport#Play', 'AVTransport#GetTransportInfo', 'AVTransport#GetPositionInfo', 'AVTransport#Pause']);
  });

  it('sets and changes the volume, and tells it', async () => {
    const { f, speaker } = await setup();
    expect((await f.call('sonos_volume', {})).content).toBe('The volume is 20.');
    expect((await f.call('sonos_volume', { volume: 35 })).content).toBe('Volume 20 → 35.');
    expect((await f.call('sonos_volume', { change: -10 })).content).toBe('Volume 35 → 25.');
    expect(speaker.state.volume).toBe(25);
  });

  it('says when nothing can play, and needs an address', async () => {
    const { f } = await setup();
    expect((await f.call('sonos_play', {})).content).toBe('The speaker cannot do that right now (nothing to play, or already in that state).');
    expect((await f.call('sonos_now_playing', {})).content).toBe('Nothing is playing (stopped).');
    f.service.setSetting('sonos', 'speaker', null);
    expect((await f.call('sonos_play', {})).content).toBe('sonos_play failed: the speaker address is not set (Skills → Sonos → Speaker address)');
  });
});
