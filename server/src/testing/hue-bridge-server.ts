/**
 * A Philips Hue bridge's REST API (v1, "CLIP"): `POST /api` pairs while the
 * link button is pressed (error 101 otherwise), `/api/<user>/lights`,
 * `/groups`, `/scenes`, `PUT …/lights/<id>/state` and `…/groups/<id>/action`.
 * Like the real bridge it answers errors with HTTP 200 and
 * `[{"error": {"type", "address", "description"}}]` (1: unauthorized user,
 * 3: resource not available, 101: link button not pressed).
 */
import { randomBytes } from 'node:crypto';
import { sendJson, startApiServer, type ApiServer } from './api-server-base';

export interface HueLight {
  name: string;
  on: boolean;
  bri: number;
  reachable?: boolean;
}

export interface HueBridgeServer extends ApiServer {
  readonly lights: Map<string, HueLight>;
  readonly users: Set<string>;
  /** The room each scene was last activated in. */
  readonly activated: Array<{ group: string; scene: string }>;
  pressLinkButton(): void;
}

export async function startHueBridgeServer(): Promise<HueBridgeServer> {
  const lights = new Map<string, HueLight>([
    ['1', { name: 'Sofa lamp', on: false, bri: 254 }],
    ['2', { name: 'Ceiling', on: true, bri: 127 }],
    ['3', { name: 'Desk', on: false, bri: 200 }],
  ]);
  const groups: Record<string, { name: string; lights: string[]; type: string }> = {
    '1': { name: 'Living room', lights: ['1', '2'], type: 'Room' },
    '2': { name: 'Office', lights: ['3'], type: 'Room' },
  };
  const scenes: Record<string, { name: string; group: string; lights: string[] }> = {
    'aXbY12cD3eF4gH5': { name: 'Relax', group: '1', lights: ['1', '2'] },
    'kL6mN7oP8qR9sT0': { name: 'Concentrate', group: '2', lights: ['3'] },
  };
  const users = new Set<string>();
  const activated: Array<{ group: string; scene: string }> = [];
  let linkPressedUntil = 0;
  const error = (type: number, address: string, description: string) => [{ error: { type, address, description } }];

  const server = await startApiServer((req, res) => {
    const ok = (body: unknown) => sendJson(res, 200, body);
    if (req.path === '/api' || req.path === '/api/') {
      if (req.method !== 'POST') return ok(error(4, '/', 'method, GET, not available for resource, /'));
      const devicetype = (req.json as { devicetype?: unknown } | undefined)?.devicetype;
      if (typeof devicetype !== 'string') return ok(error(5, '/', 'invalid/missing parameters in body'));
      if (Date.now() > linkPressedUntil) return ok(error(101, '', 'link button not pressed'));
      const username = randomBytes(20).toString('hex');
      users.add(username);
      return ok([{ success: { username } }]);
    }
    const m = /^\/api\/([^/]+)(\/.*)?$/.exec(req.path);
    const rest = m?.[2] ?? '/';
    if (!m || !users.has(m[1]!)) return ok(error(1, rest, 'unauthorized user'));
    const lightJson = (l: HueLight) => ({ state: { on: l.on, bri: l.bri, reachable: l.reachable ?? true, alert: 'none' }, type: 'Dimmable light', name: l.name });
    const setState = (light: HueLight, body: Record<string, unknown>, base: string) => {
      const out: unknown[] = [];
      if (typeof body.on === 'boolean') {
        light.on = body.on;
        out.push({ success: { [`${base}/on`]: body.on } });
      }
      if (typeof body.bri === 'number') {
        light.bri = Math.max(1, Math.min(254, body.bri));
        out.push({ success: { [`${base}/bri`]: light.bri } });
      }
      return out;
    };
    if (req.method === 'GET' && rest === '/lights') return ok(Object.fromEntries([...lights].map(([id, l]) => [id, lightJson(l)])));
    if (req.method === 'GET' && rest === '/groups') return ok(groups);
    if (req.method === 'GET' && rest === '/scenes') return ok(scenes);
    const lightState = /^\/lights\/([^/]+)\/state$/.exec(rest);
    if (req.method === 'PUT' && lightState) {
      const light = lights.get(lightState[1]!);
      if (!light) return ok(error(3, `/lights/${lightState[1]}/state`, `resource, /lights/${lightState[1]}/state, not available`));
      return ok(setState(light, (req.json ?? {}) as Record<string, unknown>, `/lights/${lightState[1]}/state`));
    }
    const groupAction = /^\/groups\/([^/]+)\/action$/.exec(rest);
    if (req.method === 'PUT' && groupAction) {
      const gid = groupAction[1]!;
      const group = gid === '0' ? { lights: [...lights.keys()] } : groups[gid];
      if (!group) return ok(error(3, `/groups/${gid}/action`, `resource, /groups/${gid}/action, not available`));
      const body = (req.json ?? {}) as Record<string, unknown>;
      if (typeof body.scene === 'string') {
        const scene = scenes[body.scene];
        if (!scene) return ok(error(7, `/groups/${gid}/action/scene`, `invalid value, ${body.scene}, for parameter, scene`));
        for (const id of scene.lights) lights.get(id)!.on = true;
        activated.push({ group: gid, scene: body.scene });
        return ok([{ success: { address: `/groups/${gid}/action/scene`, value: body.scene } }]);
      }
      const out: unknown[] = [];
      for (const id of group.lights) out.push(...setState(lights.get(id)!, body, `/groups/${gid}/action`));
      return ok(out);
    }
    return ok(error(3, rest, `resource, ${rest}, not available`));
  });
  return Object.assign(server, {
    lights,
    users,
    activated,
    pressLinkButton: () => {
      linkPressedUntil = Date.now() + 30_000;
    },
  });
}
