/**
 * Open-Meteo's forecast (`GET /v1/forecast`) and geocoding (`GET /v1/search`)
 * APIs on one loopback server, with their documented parameters, response
 * shapes and error body (`{"error": true, "reason": …}`). Data is fixed per
 * place so tests can check what the skill said.
 */
import { sendJson, startApiServer, type ApiServer } from './api-server-base';

interface Place {
  id: number;
  name: string;
  latitude: number;
  longitude: number;
  country: string;
  country_code: string;
  admin1: string;
  timezone: string;
}

export const OPEN_METEO_PLACES: readonly Place[] = [
  { id: 2267057, name: 'Lisbon', latitude: 38.71667, longitude: -9.13333, country: 'Portugal', country_code: 'PT', admin1: 'Lisbon', timezone: 'Europe/Lisbon' },
  { id: 2735943, name: 'Porto', latitude: 41.14961, longitude: -8.61099, country: 'Portugal', country_code: 'PT', admin1: 'Porto', timezone: 'Europe/Lisbon' },
  { id: 2950159, name: 'Berlin', latitude: 52.52437, longitude: 13.41053, country: 'Germany', country_code: 'DE', admin1: 'Land Berlin', timezone: 'Europe/Berlin' },
];

const DAILY_VARIABLES = new Set([
  'weather_code',
  'temperature_2m_max',
  'temperature_2m_min',
  'precipitation_sum',
  'precipitation_probability_max',
  'wind_speed_10m_max',
  'sunrise',
  'sunset',
]);
const CURRENT_VARIABLES = new Set(['temperature_2m', 'weather_code', 'wind_speed_10m', 'relative_humidity_2m']);

/** The fixed "today" of the server (the forecast starts here). */
export const OPEN_METEO_TODAY = '2026-05-04';

function day(offset: number): string {
  const d = new Date(`${OPEN_METEO_TODAY}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

export async function startOpenMeteoServer(): Promise<ApiServer> {
  return startApiServer((req, res) => {
    const bad = (reason: string) => sendJson(res, 400, { error: true, reason });
    if (req.method !== 'GET') return sendJson(res, 405, { error: true, reason: 'Method not allowed' });
    if (req.path === '/v1/search') {
      const name = (req.query.get('name') ?? '').trim().toLowerCase();
      const count = Number(req.query.get('count') ?? '10');
      if (!name) return bad("Parameter 'name' is required");
      const results = OPEN_METEO_PLACES.filter((p) => p.name.toLowerCase().startsWith(name)).slice(0, count);
      return sendJson(res, 200, results.length > 0 ? { results, generationtime_ms: 0.4 } : { generationtime_ms: 0.3 });
    }
    if (req.path === '/v1/forecast') {
      const lat = Number(req.query.get('latitude'));
      const lon = Number(req.query.get('longitude'));
      if (!req.query.has('latitude') || !req.query.has('longitude') || Number.isNaN(lat) || Number.isNaN(lon)) {
        return bad('Parameter latitude and longitude must have the same number of elements');
      }
      const days = Number(req.query.get('forecast_days') ?? '7');
      if (!Number.isInteger(days) || days < 0 || days > 16) return bad('Forecast days is invalid. Allowed range 0 to 16.');
      const daily = (req.query.get('daily') ?? '').split(',').filter(Boolean);
      const current = (req.query.get('current') ?? '').split(',').filter(Boolean);
      for (const v of daily) if (!DAILY_VARIABLES.has(v)) return bad(`Cannot initialize WeatherVariable from invalid String value ${v} for key daily`);
      for (const v of current) if (!CURRENT_VARIABLES.has(v)) return bad(`Cannot initialize WeatherVariable from invalid String value ${v} for key current`);
      const place = OPEN_METEO_PLACES.find((p) => Math.abs(p.latitude - lat) < 0.01 && Math.abs(p.longitude - lon) < 0.01);
      const base = place ? place.latitude / 2 : 10;
      const body: Record<string, unknown> = {
        latitude: lat,
        longitude: lon,
        generationtime_ms: 0.1,
        utc_offset_seconds: 3600,
        timezone: req.query.get('timezone') === 'auto' ? (place?.timezone ?? 'GMT') : 'GMT',
        timezone_abbreviation: 'GMT+1',
        elevation: 50,
      };
      if (current.length > 0) {
        body.current_units = { time: 'iso8601', interval: 'seconds', temperature_2m: '°C', weather_code: 'wmo code', wind_speed_10m: 'km/h' };
        body.current = { time: `${OPEN_METEO_TODAY}T12:00`, interval: 900, temperature_2m: Math.round(base * 10) / 10, weather_code: 2, wind_speed_10m: 11.5 };
      }
      if (daily.length > 0) {
        const values: Record<string, (i: number) => number | string> = {
          weather_code: (i) => [2, 61, 0, 3, 80][i % 5]!,
          temperature_2m_max: (i) => Math.round((base + 4 + i) * 10) / 10,
          temperature_2m_min: (i) => Math.round((base - 4 + i) * 10) / 10,
          precipitation_sum: (i) => (i % 5 === 1 ? 6.4 : 0),
          precipitation_probability_max: (i) => (i % 5 === 1 ? 85 : 5),
          wind_speed_10m_max: () => 20.1,
          sunrise: (i) => `${day(i)}T06:45`,
          sunset: (i) => `${day(i)}T20:30`,
        };
        body.daily_units = Object.fromEntries(['time', ...daily].map((v) => [v, v === 'time' ? 'iso8601' : '']));
        body.daily = {
          time: Array.from({ length: days }, (_, i) => day(i)),
          ...Object.fromEntries(daily.map((v) => [v, Array.from({ length: days }, (_, i) => values[v]!(i))])),
        };
      }
      return sendJson(res, 200, body);
    }
    return sendJson(res, 404, { error: true, reason: 'Not found' });
  });
}
