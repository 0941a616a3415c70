// costs.chart_90d_render_ms: the Costs page in Chromium with 90 days × 5
// models (5 conversations, 2 channels) of usage — from the ledger in hand to
// the chart's first frame, as the page measures it (performance marks
// `costs-chart-start` → `costs-chart-end`), over switches between the splits.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { launchChromium } from '../e2e/support/browser';
import { openStore } from '../server/src/store/index';
import { AUTOCLAW, median, round, spawnGateway, tempDir, writeFigures } from './support';

const MODELS = [
  ['anthropic', 'claude-sonnet-4-6', 3_000],
  ['anthropic', 'claude-haiku-4-5', 900],
  ['anthropic', 'claude-opus-4-6', 9_000],
  ['openai', 'gpt-4o-mini', 150],
  ['openai-compatible', 'llama3.1', null],
] as const;

const dir = tempDir('autoclaw-bench-chart-');
let now = Date.now();
const store = openStore({ path: join(dir.path, 'gateway.db'), now: () => now });
const sessions = Array.from({ length: 5 }, (_, i) => store.createSession({ name: `conversation ${i + 1}`, channel: i % 2 === 0 ? 'webchat' : 'telegram' }));
const end = Date.now();
for (let day = 0; day < 90; day++) {
  for (const [m, [provider, model, cost]] of MODELS.entries()) {
    for (let call = 0; call < 4; call++) {
      now = end - day * 86_400_000 - (m * 4 + call) * 600_000;
      const session = sessions[(day + call) % sessions.length]!;
      store.recordUsage({
        sessionId: session.id,
        messageId: null,
        provider,
        model,
        usage: { inputTokens: 1_500 + call, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costMicros: cost === null ? null : cost + day,
        channel: session.channel,
      });
    }
  }
}
store.close();

const gw = await spawnGateway(dir.path, {});
const browser = await launchChromium();
const samples: number[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  await page.goto(gw.url);
  await page.getByRole('heading', { name: 'Pair this browser' }).waitFor();
  const code = spawnSync(AUTOCLAW, ['pair', '--data', dir.path], { encoding: 'utf8' }).stdout.trim().split(/\s+/).pop() ?? '';
  await page.getByLabel('Pairing code').fill(code);
  await page.getByRole('button', { name: 'Pair' }).click();
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Online' }).waitFor();
  await page.getByRole('button', { name: 'Costs', exact: true }).click();
  await page.locator('.cost-chart-canvas canvas').first().waitFor();
  // The first render also loads the chart's module; the switches that follow are the page's own work.
  for (let round = 0; round < 4; round++) {
    for (const split of ['Conversation', 'Channel', 'Model']) {
      await page.evaluate(() => performance.clearMeasures('costs-chart-render'));
      await page.getByRole('radio', { name: split }).check();
      const ms = await page.waitForFunction(() => performance.getEntriesByName('costs-chart-render')[0]?.duration, undefined, { polling: 10 });
      samples.push((await ms.jsonValue()) as number);
      const legend = await page.locator('#cost-chart-legend').innerText();
      if (!legend.includes('$')) throw new Error(`no figures in the legend: ${legend}`);
    }
  }
} finally {
  await browser.close();
  await gw.stop();
  dir.remove();
}
console.log(`samples: ${samples.map((s) => s.toFixed(1)).join(', ')} ms`);
writeFigures({ 'costs.chart_90d_render_ms': round(median(samples), 1), 'costs.chart_90d_render_ms_max': round(Math.max(...samples), 1) });
