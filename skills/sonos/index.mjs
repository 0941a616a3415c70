// @ts-check
/**
 * A Sonos speaker through @svrooij/sonos, which speaks the speaker's UPnP
 * SOAP services (AVTransport, RenderingControl) on port 1400. The speaker's
 * address is a setting: an IP address, as the library does its own lookups.
 */
import { SonosDevice } from '@svrooij/sonos';

/** @param {import('../../server/src/skills/host/api').ToolContext} ctx */
function speaker(ctx) {
  const value = ctx.setting('speaker');
  if (!value) throw new Error('the speaker address is not set (Skills → Sonos → Speaker address)');
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) throw new Error('the speaker address must be an IPv4 address, like 192.168.1.30');
  return new SonosDevice(m[1], m[2] ? Number(m[2]) : 1400);
}

/** @param {unknown} err */
function explain(err) {
  const e = /** @type {{ UpnpErrorCode?: number; UpnpErrorDescription?: string; message?: string }} */ (err);
  if (e.UpnpErrorCode === 701) return 'The speaker cannot do that right now (nothing to play, or already in that state).';
  throw err;
}

const STATES = /** @type {Record<string, string>} */ ({
  PLAYING: 'playing',
  PAUSED_PLAYBACK: 'paused',
  STOPPED: 'stopped',
  TRANSITIONING: 'starting',
});

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async sonos_play(_input, ctx) {
    try {
      await speaker(ctx).Play();
      return 'Playing.';
    } catch (err) {
      return explain(err);
    }
  },

  async sonos_pause(_input, ctx) {
    try {
      await speaker(ctx).Pause();
      return 'Paused.';
    } catch (err) {
      return explain(err);
    }
  },

  async sonos_volume({ volume, change }, ctx) {
    const device = speaker(ctx);
    const { CurrentVolume } = await device.RenderingControlService.GetVolume({ InstanceID: 0, Channel: 'Master' });
    if (volume === undefined && change === undefined) return `The volume is ${CurrentVolume}.`;
    const next = Math.max(0, Math.min(100, volume ?? CurrentVolume + (change ?? 0)));
    await device.SetVolume(next);
    return `Volume ${CurrentVolume} → ${next}.`;
  },

  async sonos_now_playing(_input, ctx) {
    const device = speaker(ctx);
    const transport = await device.AVTransportService.GetTransportInfo({ InstanceID: 0 });
    const position = await device.AVTransportService.GetPositionInfo({ InstanceID: 0 });
    const state = STATES[transport.CurrentTransportState] ?? String(transport.CurrentTransportState).toLowerCase();
    const track = typeof position.TrackMetaData === 'object' ? position.TrackMetaData : undefined;
    if (!track?.Title) return `Nothing is playing (${state}).`;
    const by = [track.Artist, track.Album].filter(Boolean).join(', ');
    return `${track.Title}${by ? ` — ${by}` : ''} (${state}, ${position.RelTime} of ${position.TrackDuration}).`;
  },
};
