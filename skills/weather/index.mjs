// @ts-check
/**
 * Weather from Open-Meteo's HTTP API: the geocoding API turns a place name
 * into coordinates, the forecast API gives current conditions and a daily
 * forecast. Both API roots are settings (defaults: Open-Meteo's servers).
 */

/** WMO weather interpretation codes, as Open-Meteo documents them. */
const CODES = /** @type {Record<number, string>} */ ({
  0: 'clear sky',
  1: 'mainly clear',
  2: 'partly cloudy',
  3: 'overcast',
  45: 'fog',
  48: 'depositing rime fog',
  51: 'light drizzle',
  53: 'drizzle',
  55: 'dense drizzle',
  56: 'light freezing drizzle',
  57: 'freezing drizzle',
  61: 'light rain',
  63: 'rain',
  65: 'heavy rain',
  66: 'light freezing rain',
  67: 'freezing rain',
  71: 'light snow',
  73: 'snow',
  75: 'heavy snow',
  77: 'snow grains',
  80: 'light rain showers',
  81: 'rain showers',
  82: 'violent rain showers',
  85: 'light snow showers',
  86: 'snow showers',
  95: 'thunderstorm',
  96: 'thunderstorm with light hail',
  99: 'thunderstorm with hail',
});

const describe = (/** @type {number} */ code) => CODES[code] ?? `weather code ${code}`;

/**
 * @param {string} url
 * @param {AbortSignal} signal
 * @returns {Promise<any>}
 */
async function getJson(url, signal) {
  const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  /** @type {any} */
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`Open-Meteo answered ${res.status}${body?.reason ? `: ${body.reason}` : ''}`);
  return body;
}

/**
 * @param {string} root
 * @param {string} path
 * @param {Record<string, string | number>} params
 */
function apiUrl(root, path, params) {
  const url = new URL(path, root.endsWith('/') ? root : `${root}/`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  return url.href;
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async weather_forecast(input, ctx) {
    /** @type {{ place?: string; latitude?: number; longitude?: number; days?: number }} */
    const { place, latitude, longitude, days = 3 } = input;
    let where;
    if (typeof latitude === 'number' && typeof longitude === 'number') {
      where = { name: `${latitude.toFixed(2)}, ${longitude.toFixed(2)}`, latitude, longitude };
    } else if (place) {
      const [name, ...rest] = place.split(',').map((s) => s.trim());
      const found = await getJson(
        apiUrl(ctx.setting('geocodingRoot') ?? '', 'v1/search', { name: name ?? place, count: 10, language: 'en', format: 'json' }),
        ctx.signal,
      );
      /** @type {Array<{ name: string; latitude: number; longitude: number; country?: string; admin1?: string; timezone?: string }>} */
      const results = found?.results ?? [];
      const hint = rest.join(' ').toLowerCase();
      const match = results.find((r) => hint && [r.country, r.admin1].some((x) => x?.toLowerCase().includes(hint))) ?? results[0];
      if (!match) return `No place called "${place}" was found.`;
      where = { name: [match.name, match.admin1, match.country].filter(Boolean).join(', '), latitude: match.latitude, longitude: match.longitude };
    } else {
      return 'Say which place (or give latitude and longitude).';
    }

    const data = await getJson(
      apiUrl(ctx.setting('apiRoot') ?? '', 'v1/forecast', {
        latitude: where.latitude,
        longitude: where.longitude,
        current: 'temperature_2m,weather_code,wind_speed_10m',
        daily: 'weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum,precipitation_probability_max,wind_speed_10m_max',
        timezone: 'auto',
        forecast_days: days,
      }),
      ctx.signal,
    );
    const lines = [`Weather for ${where.name} (${where.latitude.toFixed(2)}, ${where.longitude.toFixed(2)}; time zone ${data.timezone ?? 'UTC'}).`];
    const now = data.current;
    if (now) lines.push(`Now (${now.time}): ${now.temperature_2m} °C, ${describe(now.weather_code)}, wind ${now.wind_speed_10m} km/h.`);
    const daily = data.daily ?? {};
    /** @type {string[]} */
    const dates = daily.time ?? [];
    dates.forEach((date, i) => {
      const rain = daily.precipitation_sum?.[i];
      const chance = daily.precipitation_probability_max?.[i];
      lines.push(
        `${date}: ${describe(daily.weather_code?.[i])}, ${daily.temperature_2m_min?.[i]}–${daily.temperature_2m_max?.[i]} °C, ` +
          `rain ${rain ?? 0} mm${chance === undefined || chance === null ? '' : ` (${chance}%)`}, wind up to ${daily.wind_speed_10m_max?.[i]} km/h.`,
      );
    });
    return lines.join('\n');
  },
};
