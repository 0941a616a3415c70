/** The bundled browser skill: playwright-core and this machine's Chromium, on local pages, through the egress proxy. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeFixture } from '../test-runtime';
import { findChromium } from '../runtime/locate';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, port, hits };
}

describe('browser skill', () => {
  it('opens a local page in Chromium and reads it; the page cannot reach an undeclared host; screenshots land in the workspace', async () => {
    const chromium = findChromium(process.env['AUTOCLAW_CHROMIUM']);
    expect(chromium, 'a Chromium is needed (npm test installs one)').not.toBeNull();
    const other = await serve((_req, res) => res.end('LEAKED'));
    const site = await serve((req, res) => {
      if (req.url === '/away') {
        res.writeHead(302, { location: `${other.url}/` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Garden club news</title>
<h1>Spring meeting</h1><p>The garden club meets on Saturday at 10:00 by the greenhouse.</p>
<p id="probe">checking…</p>
<script>
fetch('${other.url}/secret').then((r) => r.text()).then((t) => { document.getElementById('probe').textContent = 'fetched: ' + t; })
  .catch(() => { document.getElementById('probe').textContent = 'the other host was blocked'; });
</script>`);
    });
    const f = runtimeFixture([], { bundled: ['browser'], enable: ['browser'], deps: { chromiumPath: chromium } });
    cleanups.push(() => f.close());
    f.service.setSetting('browser', 'extraHost', `127.0.0.1:${site.port}`);

    const opened = await f.call('browser_open', { url: `${site.url}/news` });
    expect(opened.content).toMatch(/^Garden club news/);
    expect(opened.ok).toBe(true);
    expect(opened.content.split('\n').slice(0, 2)).toEqual(['Garden club news', `${site.url}/news (HTTP 200)`]);
    expect(opened.content).toContain('The garden club meets on Saturday at 10:00 by the greenhouse.');
    await expect.poll(async () => (await f.call('browser_read', {})).content).toContain('the other host was blocked');
    expect(other.hits).toEqual([]);

    const shot = await f.call('browser_screenshot', {});
    const name = /as (browser\/screenshot-[\w-]+\.png)/.exec(shot.content)?.[1];
    expect(name).toBeDefined();
    expect(readFileSync(join(f.workspaceDir, name!)).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');

    expect((await f.call('browser_open', { url: 'file:///etc/passwd' })).content).toBe('browser_open failed: only http and https pages can be opened (not file:)');
    expect((await f.call('browser_open', { url: `${other.url}/` })).content).toMatch(/^browser_open failed: 127\.0\.0\.1:\d+ is not a host this skill may reach|could not be opened/);
    expect((await f.call('browser_open', { url: `${site.url}/away` })).content).toMatch(/browser_open failed/);
    expect(other.hits).toEqual([]);
  });
});
