/**
 * A Sonos speaker's UPnP SOAP control endpoints on loopback:
 * `POST /MediaRenderer/AVTransport/Control` (Play, Pause, GetTransportInfo,
 * GetPositionInfo with DIDL-Lite track metadata) and
 * `POST /MediaRenderer/RenderingControl/Control` (GetVolume, SetVolume),
 * dispatched by the SOAPACTION header, answering SOAP envelopes, and UPnP
 * faults (HTTP 500, `s:Fault` with `UPnPError/errorCode`) as the speaker does.
 */
import type { ServerResponse } from 'node:http';
import { sendText, startApiServer, type ApiServer } from './api-server-base';

export interface SonosTrack {
  title: string;
  artist: string;
  album: string;
  duration: string;
}

export interface SonosSpeakerServer extends ApiServer {
  readonly state: { transport: 'PLAYING' | 'PAUSED_PLAYBACK' | 'STOPPED'; volume: number; track: SonosTrack | null; position: string };
  /** SOAP actions received, in order, e.g. "AVTransport#Play". */
  readonly actions: string[];
}

const ENVELOPE_OPEN = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>';
const ENVELOPE_CLOSE = '</s:Body></s:Envelope>';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function answer(res: ServerResponse, service: string, action: string, fields: Record<string, string | number> = {}): void {
  const inner = Object.entries(fields)
    .map(([k, v]) => `<${k}>${typeof v === 'number' ? v : escapeXml(v)}</${k}>`)
    .join('');
  const body = `${ENVELOPE_OPEN}<u:${action}Response xmlns:u="urn:schemas-upnp-org:service:${service}:1">${inner}</u:${action}Response>${ENVELOPE_CLOSE}`;
  sendText(res, 200, body, 'text/xml; charset="utf-8"', { server: 'Linux UPnP/1.0 Sonos/70.3-88200 (ZPS23)' });
}

function fault(res: ServerResponse, code: number): void {
  const body = `${ENVELOPE_OPEN}<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode></UPnPError></detail></s:Fault>${ENVELOPE_CLOSE}`;
  sendText(res, 500, body, 'text/xml; charset="utf-8"');
}

function didl(track: SonosTrack): string {
  return (
    '<DIDL-Lite xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" xmlns:r="urn:schemas-rinconnetworks-com:metadata-1-0/" xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/">' +
    `<item id="-1" parentID="-1" restricted="true"><res protocolInfo="x-file-cifs:*:audio/mpeg:*" duration="${track.duration}">x-file-cifs://nas/music/track.mp3</res>` +
    `<upnp:class>object.item.audioItem.musicTrack</upnp:class><dc:title>${escapeXml(track.title)}</dc:title><dc:creator>${escapeXml(track.artist)}</dc:creator><upnp:album>${escapeXml(track.album)}</upnp:album></item></DIDL-Lite>`
  );
}

const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

export async function startSonosSpeakerServer(initial: Partial<SonosSpeakerServer['state']> = {}): Promise<SonosSpeakerServer> {
  const state: SonosSpeakerServer['state'] = { transport: 'STOPPED', volume: 20, track: null, position: '0:00:00', ...initial };
  const actions: string[] = [];
  const server = await startApiServer((req, res) => {
    const soapAction = String(req.headers.soapaction ?? '');
    const m = /^"urn:schemas-upnp-org:service:(AVTransport|RenderingControl):1#(\w+)"$/.exec(soapAction);
    const expected = m ? `/MediaRenderer/${m[1]}/Control` : '';
    if (req.method !== 'POST' || !m || req.path !== expected) return fault(res, 401);
    if (!String(req.headers['content-type'] ?? '').startsWith('text/xml')) return fault(res, 402);
    const [, service, action] = m as unknown as [string, string, string];
    if (!req.text.includes(`<u:${action} xmlns:u="urn:schemas-upnp-org:service:${service}:1">`) || tag(req.text, 'InstanceID') !== '0') return fault(res, 402);
    actions.push(`${service}#${action}`);
    if (service === 'AVTransport') {
      if (action === 'Play') {
        if (!state.track) return fault(res, 701);
        state.transport = 'PLAYING';
        return answer(res, service, action);
      }
      if (action === 'Pause') {
        if (state.transport !== 'PLAYING') return fault(res, 701);
        state.transport = 'PAUSED_PLAYBACK';
        return answer(res, service, action);
      }
      if (action === 'GetTransportInfo') {
        return answer(res, service, action, { CurrentTransportState: state.transport, CurrentTransportStatus: 'OK', CurrentSpeed: 1 });
      }
      if (action === 'GetPositionInfo') {
        const t = state.track;
        return answer(res, service, action, {
          Track: t ? 1 : 0,
          TrackDuration: t?.duration ?? '0:00:00',
          TrackMetaData: t ? didl(t) : '',
          TrackURI: t ? 'x-file-cifs://nas/music/track.mp3' : '',
          RelTime: state.position,
          AbsTime: 'NOT_IMPLEMENTED',
          RelCount: 2147483647,
          AbsCount: 2147483647,
        });
      }
    }
    if (service === 'RenderingControl' && tag(req.text, 'Channel') === 'Master') {
      if (action === 'GetVolume') return answer(res, service, action, { CurrentVolume: state.volume });
      if (action === 'SetVolume') {
        const v = Number(tag(req.text, 'DesiredVolume'));
        if (!Number.isInteger(v) || v < 0 || v > 100) return fault(res, 402);
        state.volume = v;
        return answer(res, service, action);
      }
    }
    return fault(res, 401);
  });
  return Object.assign(server, { state, actions });
}
