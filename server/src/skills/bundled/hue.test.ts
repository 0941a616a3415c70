/** The bundled Hue skill against a local server speaking the Hue bridge's REST API. */
import { afterEach, describe, expect, it } from 'vitest';
import { startHueBridgeServer, type HueBridgeServer } from '../../testing';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ f: RuntimeFixture; bridge: HueBridgeServer }> {
  const bridge = await startHueBridgeServer();
  cleanups.push(() => bridge.close());
  const f = runtimeFixture([], { bundled: ['hue'], enable: ['hue'] });
  cleanups.push(() => f.close());
  f.service.setSetting('hue', 'bridge', `127.0.0.1:${bridge.port}`);
  return { f, bridge };
}

describe('hue skill', () => {
  it('pairs by the link button: refused before it is pressed, then keeps the username in the vault', async () => {
    const { f, bridge } = await setup();
    expect((await f.call('hue_lights', {})).content).toBe('hue_lights failed: not paired with the bridge yet: press its link button, then call hue_pair');
    expect((await f.call('hue_pair', {})).content).toBe(
      'The bridge says its link button was not pressed. Ask the user to press it, then try again within 30 seconds.',
    );
    bridge.pressLinkButton();
    expect(await f.call('hue_pair', {})).toEqual({ ok: true, content: 'Paired with the Hue bridge.' });
    expect(bridge.users.size).toBe(1);
    expect(f.service.list()[0]!.secrets).toEqual([{ name: 'username', label: 'Bridge username (made when pairing)', set: true }]);
    expect(f.service.secretValue('hue', 'username')).toBe([...bridge.users][0]);
    expect(bridge.requests[1]!.json).toEqual({ devicetype: 'autoclaw#gateway' });
  });

  it('lists lights, switches them and sets brightness, by light or room name; scenes by name', async () => {
    const { f, bridge } = await setup();
    bridge.pressLinkButton();
    await f.call('hue_pair', {});
    expect((await f.call('hue_lights', {})).content).toBe('- Sofa lamp (light 1): off\n- Ceiling (light 2): on, 50%\n- Desk (light 3): off');
    expect((await f.call('hue_set_light', { light: 'sofa lamp', brightness: 40 })).content).toBe('Sofa lamp: on, 40%.');
    expect(bridge.lights.get('1')).toMatchObject({ on: true, bri: 102 });
    expect((await f.call('hue_set_light', { light: 'Living room', on: false })).content).toBe('Living room (room): off.');
    expect([bridge.lights.get('1')!.on, bridge.lights.get('2')!.on]).toEqual([false, false]);
    expect((await f.call('hue_set_light', { light: 'Garage', on: true })).content).toBe('No light or room called "Garage". Lights: Sofa lamp, Ceiling, Desk.');
    expect((await f.call('hue_scenes', {})).content).toBe('- Relax (Living room)\n- Concentrate (Office)');
    expect((await f.call('hue_activate_scene', { scene: 'relax' })).content).toBe('Living room: scene Relax.');
    expect(bridge.activated).toEqual([{ group: '1', scene: 'aXbY12cD3eF4gH5' }]);
  });

  it('a forgotten pairing reads clearly; a new bridge address forgets the old username', async () => {
    const { f, bridge } = await setup();
    bridge.pressLinkButton();
    await f.call('hue_pair', {});
    bridge.users.clear();
    expect((await f.call('hue_lights', {})).content).toBe('hue_lights failed: the bridge no longer knows this pairing (unauthorized user): pair again with hue_pair');
    f.service.setSetting('hue', 'bridge', '192.168.1.77');
    expect(f.service.secretValue('hue', 'username')).toBeNull();
  });
});
