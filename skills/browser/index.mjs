// @ts-check
/**
 * A browser through playwright-core and the machine's Chromium. The gateway
 * starts Chromium only here (the one program this skill declared) and always
 * behind its egress proxy, which allows public hosts and the one host the
 * owner added; only http(s) pages are opened, and other schemes are blocked
 * inside the page too.
 */
import { chromium } from 'playwright-core';

const MAX_TEXT = 20_000;
const ALLOWED_SCHEMES = new Set(['http:', 'https:', 'data:', 'blob:', 'about:']);

/** @type {Promise<import('playwright-core').Page> | null} */
let pagePromise = null;

/** @param {import('../../server/src/skills/host/api').ToolContext} ctx */
async function page(ctx) {
  if (!ctx.browser) throw new Error('no Chromium was found on this machine (set AUTOCLAW_CHROMIUM for the gateway)');
  const launch = ctx.browser;
  pagePromise ??= (async () => {
    const browser = await chromium.launch({
      executablePath: launch.executablePath,
      args: [
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        ...launch.args,
        // Chromium's own sandbox needs a non-root user.
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      ],
    });
    const context = await browser.newContext({ acceptDownloads: false, javaScriptEnabled: true });
    const p = await context.newPage();
    await p.route('**/*', (route) => {
      const scheme = new URL(route.request().url()).protocol;
      return ALLOWED_SCHEMES.has(scheme) ? route.continue() : route.abort('blockedbyclient');
    });
    return p;
  })();
  pagePromise.catch(() => {
    pagePromise = null;
  });
  return pagePromise;
}

/** @param {string} url */
function checkUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`only http and https pages can be opened (not ${parsed.protocol})`);
  return parsed.href;
}

/**
 * @param {import('playwright-core').Page} p
 * @param {string} url
 */
async function go(p, url) {
  const response = await p.goto(checkUrl(url), { waitUntil: 'load', timeout: 45_000 }).catch((/** @type {Error} */ err) => {
    throw new Error(`${url} could not be opened (${err.message.split('\n')[0]})`);
  });
  if (response && response.status() === 403 && (await response.text()).startsWith('AutoClaw egress:')) {
    throw new Error(`${new URL(url).host} is not a host this skill may reach`);
  }
  return response;
}

/** @param {import('playwright-core').Page} p */
async function text(p) {
  const body = (await p.locator('body').innerText({ timeout: 10_000 }).catch(() => '')).replace(/\n{3,}/g, '\n\n').trim();
  return body.length > MAX_TEXT ? `${body.slice(0, MAX_TEXT)}\n[… ${body.length - MAX_TEXT} more characters]` : body;
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async browser_open({ url }, ctx) {
    const p = await page(ctx);
    const response = await go(p, url);
    return `${await p.title()}\n${p.url()} (HTTP ${response?.status() ?? '?'})\n\n${await text(p)}`;
  },

  async browser_read(_input, ctx) {
    const p = await page(ctx);
    if (p.url() === 'about:blank') return 'No page is open; use browser_open first.';
    return `${await p.title()}\n${p.url()}\n\n${await text(p)}`;
  },

  async browser_screenshot({ url, fullPage = false }, ctx) {
    const p = await page(ctx);
    if (url) await go(p, url);
    if (p.url() === 'about:blank') return 'No page is open; give a url.';
    const png = await p.screenshot({ fullPage, type: 'png' });
    const name = `screenshot-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
    await ctx.files.writeBytes(name, png);
    return `Saved a screenshot of ${p.url()} as browser/${name} (${png.length} bytes).`;
  },
};
