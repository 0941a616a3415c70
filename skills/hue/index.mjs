// @ts-check
/**
 * Philips Hue through the bridge's REST API (v1): pairing by the link
 * button hands out a username, kept in the vault; lights, rooms (groups)
 * and scenes are read and set with it. The bridge's address is a setting.
 */

/** @typedef {import('../../server/src/skills/host/api').ToolContext} Ctx */

/** @param {Ctx} ctx */
function bridgeUrl(ctx) {
  const host = ctx.setting('bridge');
  if (!host) throw new Error('the Hue bridge address is not set (Skills → Hue → Hue bridge address)');
  return `http://${host}`;
}

/**
 * A bridge call; the bridge answers errors with HTTP 200 and `[{ error: { type, description } }]`.
 * @param {Ctx} ctx
 * @param {string} path
 * @param {{ method?: string; body?: unknown; auth?: boolean }} [opts]
 * @returns {Promise<any>}
 */
async function bridge(ctx, path, opts = {}) {
  let prefix = '/api';
  if (opts.auth !== false) {
    const user = ctx.secret('username');
    if (!user) throw new Error('not paired with the bridge yet: press its link button, then call hue_pair');
    prefix = `/api/${encodeURIComponent(user)}`;
  }
  const res = await fetch(`${bridgeUrl(ctx)}${prefix}${path}`, {
    method: opts.method ?? 'GET',
    signal: ctx.signal,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body), headers: { 'content-type': 'application/json' } }),
  });
  if (!res.ok) throw new Error(`the bridge answered HTTP ${res.status}`);
  const data = await res.json();
  const errors = Array.isArray(data) ? data.filter((x) => x.error).map((x) => x.error) : [];
  if (errors.length > 0) {
    const first = errors[0];
    if (first.type === 1) throw new Error('the bridge no longer knows this pairing (unauthorized user): pair again with hue_pair');
    const err = new Error(`the bridge refused: ${first.description}`);
    Object.assign(err, { hueType: first.type });
    throw err;
  }
  return data;
}

/** @param {number} bri 1–254 */
const percent = (bri) => Math.round((bri / 254) * 100);
/** @param {number} pct 0–100 */
const bri = (pct) => Math.max(1, Math.round((pct / 100) * 254));

/**
 * @param {Record<string, { name: string }>} items
 * @param {string} wanted
 */
function byName(items, wanted) {
  const w = wanted.trim().toLowerCase();
  return Object.entries(items).find(([id, item]) => id === w || item.name.toLowerCase() === w);
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async hue_pair(_input, ctx) {
    try {
      const [answer] = await bridge(ctx, '', { method: 'POST', body: { devicetype: 'autoclaw#gateway' }, auth: false });
      await ctx.saveSecret('username', answer.success.username);
      return 'Paired with the Hue bridge.';
    } catch (err) {
      if (/** @type {{ hueType?: number }} */ (err).hueType === 101) {
        return 'The bridge says its link button was not pressed. Ask the user to press it, then try again within 30 seconds.';
      }
      throw err;
    }
  },

  async hue_lights(_input, ctx) {
    /** @type {Record<string, { name: string; state: { on: boolean; bri?: number; reachable?: boolean } }>} */
    const lights = await bridge(ctx, '/lights');
    const lines = Object.entries(lights).map(([id, l]) => {
      const state = l.state.reachable === false ? 'unreachable' : l.state.on ? `on, ${percent(l.state.bri ?? 254)}%` : 'off';
      return `- ${l.name} (light ${id}): ${state}`;
    });
    return lines.length > 0 ? lines.join('\n') : 'The bridge has no lights.';
  },

  async hue_set_light({ light, on, brightness }, ctx) {
    if (on === undefined && brightness === undefined) return 'Say whether to turn it on or off, or which brightness.';
    /** @type {Record<string, unknown>} */
    const state = {};
    if (brightness !== undefined) {
      state.on = brightness > 0;
      if (brightness > 0) state.bri = bri(brightness);
    }
    if (on !== undefined) state.on = on;
    const lights = await bridge(ctx, '/lights');
    const found = byName(lights, light);
    if (found) {
      await bridge(ctx, `/lights/${found[0]}/state`, { method: 'PUT', body: state });
      return `${found[1].name}: ${state.on ? `on${state.bri ? `, ${brightness}%` : ''}` : 'off'}.`;
    }
    const groups = await bridge(ctx, '/groups');
    const room = byName(groups, light);
    if (!room) return `No light or room called "${light}". Lights: ${Object.values(lights).map((l) => l.name).join(', ')}.`;
    await bridge(ctx, `/groups/${room[0]}/action`, { method: 'PUT', body: state });
    return `${room[1].name} (room): ${state.on ? `on${state.bri ? `, ${brightness}%` : ''}` : 'off'}.`;
  },

  async hue_scenes(_input, ctx) {
    /** @type {Record<string, { name: string; group?: string }>} */
    const scenes = await bridge(ctx, '/scenes');
    /** @type {Record<string, { name: string }>} */
    const groups = await bridge(ctx, '/groups');
    const lines = Object.values(scenes).map((s) => `- ${s.name}${s.group && groups[s.group] ? ` (${groups[s.group].name})` : ''}`);
    return lines.length > 0 ? lines.join('\n') : 'The bridge has no scenes.';
  },

  async hue_activate_scene({ scene, room }, ctx) {
    /** @type {Record<string, { name: string; group?: string }>} */
    const scenes = await bridge(ctx, '/scenes');
    /** @type {Record<string, { name: string }>} */
    const groups = await bridge(ctx, '/groups');
    const roomEntry = room ? byName(groups, room) : undefined;
    if (room && !roomEntry) return `No room called "${room}".`;
    const match = Object.entries(scenes).find(
      ([, s]) => s.name.toLowerCase() === scene.trim().toLowerCase() && (!roomEntry || s.group === roomEntry[0]),
    );
    if (!match) return `No scene called "${scene}"${room ? ` in ${room}` : ''}.`;
    const group = match[1].group ?? '0';
    await bridge(ctx, `/groups/${group}/action`, { method: 'PUT', body: { scene: match[0] } });
    return `${groups[group]?.name ?? 'All lights'}: scene ${match[1].name}.`;
  },
};
