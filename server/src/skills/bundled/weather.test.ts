/** The bundled Weather skill, exactly as vetted, against a local server speaking Open-Meteo's API. */
import { afterEach, describe, expect, it } from 'vitest';
import { startOpenMeteoServer } from '../../testing';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ f: RuntimeFixture; api: Awaited<ReturnType<typeof startOpenMeteoServer>> }> {
  const api = await startOpenMeteoServer();
  cleanups.push(() => api.close());
  const f = runtimeFixture([], { bundled: ['weather'], enable: ['weather'] });
  cleanups.push(() => f.close());
  f.service.setSetting('weather', 'apiRoot', api.url);
  f.service.setSetting('weather', 'geocodingRoot', api.url);
  return { f, api };
}

describe('weather skill', () => {
  it('finds the place, then forecasts it: what a user asking about Lisbon tomorrow gets', async () => {
    const { f, api } = await setup();
    const out = await f.call('weather_forecast', { place: 'Lisbon', days: 2 });
    expect(out.ok).toBe(true);
    expect(out.content.split('\n')).toEqual([
      'Weather for Lisbon, Lisbon, Portugal (38.72, -9.13; time zone Europe/Lisbon).',
      'Now (2026-05-04T12:00): 19.4 °C, partly cloudy, wind 11.5 km/h.',
      '2026-05-04: partly cloudy, 15.4–23.4 °C, rain 0 mm (5%), wind up to 20.1 km/h.',
      '2026-05-05: light rain, 16.4–24.4 °C, rain 6.4 mm (85%), wind up to 20.1 km/h.',
    ]);
    expect(api.requests.map((r) => r.path)).toEqual(['/v1/search', '/v1/forecast']);
    expect(api.requests[1]!.query.get('forecast_days')).toBe('2');
    expect(api.requests[1]!.query.get('timezone')).toBe('auto');
  });

  it('uses the country to choose among places, takes coordinates, and says when nothing is found', async () => {
    const { f } = await setup();
    expect((await f.call('weather_forecast', { place: 'Berlin, Germany', days: 1 })).content).toMatch(/^Weather for Berlin, Land Berlin, Germany/);
    expect((await f.call('weather_forecast', { latitude: 41.14961, longitude: -8.61099, days: 1 })).content).toMatch(/^Weather for 41\.15, -8\.61/);
    expect(await f.call('weather_forecast', { place: 'Atlantis' })).toEqual({ ok: true, content: 'No place called "Atlantis" was found.' });
    expect((await f.call('weather_forecast', { place: 'Lisbon', days: 40 })).content).toBe('Invalid input for weather_forecast: input.days: must be at most 16');
  });

  it('shows the hosts it reaches as the settings make them, and reaches no other', async () => {
    const { f, api } = await setup();
    expect(f.service.list()[0]!.permissions.hosts).toEqual([`127.0.0.1:${api.port} (Forecast API)`, `127.0.0.1:${api.port} (Geocoding API)`]);
    const other = await startOpenMeteoServer();
    cleanups.push(() => other.close());
    // The geocoding root moves; the forecast API stays: both are reached only where their settings point.
    f.service.setSetting('weather', 'geocodingRoot', other.url);
    expect((await f.call('weather_forecast', { place: 'Porto', days: 1 })).ok).toBe(true);
    expect(other.requests.map((r) => r.path)).toEqual(['/v1/search']);
  });
});
