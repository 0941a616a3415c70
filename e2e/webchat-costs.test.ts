import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatMicros, usdText } from '@autoclaw/shared';
import { startHarness, type Harness } from './support/harness';
import { openStore } from '../server/src/store';
import { databasePath } from '../server/src/gateway';
import { usageByDay } from './support/gateway-process';
import { lastAnswer, openAndPair, send } from './support/webchat';

const ZONE = 'America/New_York';
const todayIn = (zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

describe('WebChat costs: the chart, the table and a hard budget', () => {
  let h: Harness;
  let page: Page;
  let figure: string;
  let firstCost: number;

  beforeAll(async () => {
    h = await startHarness();
    const context = await h.browser.newContext({ timezoneId: ZONE });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await page?.context().close();
    await h?.close();
  });

  it('shows the day’s spend in the chart (hover or arrow keys) and in the table', async () => {
    await send(page, 'hello costs');
    expect(await lastAnswer(page)).toBe('Echo: hello costs');
    const ledger = await usageByDay(h.dataDir, ZONE);
    const today = todayIn(ZONE);
    expect(ledger.rows).toEqual([expect.objectContaining({ day: today, calls: 1 })]);
    firstCost = ledger.total.costMicros;
    figure = formatMicros(firstCost);

    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    await page.getByRole('heading', { name: 'Costs', level: 1 }).waitFor();
    const chart = page.locator('.cost-chart-canvas');
    await chart.locator('canvas').first().waitFor();
    const legend = page.locator('#cost-chart-legend');
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    const dayWidth = box.width / 90;
    // Hover a day weeks ago: nothing spent.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => legend.getAttribute('data-day')).not.toBe(today);
    expect(await legend.innerText()).toContain('$0.00');
    // Hover today's bar (the last one): the figure of the day.
    await page.mouse.move(box.x + box.width - dayWidth / 2, box.y + box.height - 4);
    await expect.poll(() => legend.getAttribute('data-day')).toBe(today);
    expect(await legend.innerText()).toContain(figure);
    expect(await legend.innerText()).toContain('claude-sonnet-4-6');
    // The keyboard reaches the same figures.
    await chart.focus();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => legend.getAttribute('data-day')).not.toBe(today);
    await page.keyboard.press('End');
    await expect.poll(() => legend.getAttribute('data-day')).toBe(today);

    const row = page.locator(`.cost-table tr[data-day="${today}"]`);
    expect(await row.innerText()).toContain(figure);
    expect(await page.locator('.cost-figure').filter({ hasText: 'Today' }).innerText()).toContain(figure);
  });

  it('refuses the next message under a tiny cap, says what to do, and chats again once raised; the soft line shows in the bell', async () => {
    await page.getByLabel('Daily budget (USD)').fill('0.0001');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    const requests = h.wire.requests.length;
    await send(page, 'is this over budget?');
    const refusal = page.locator('.budget-refusal');
    await refusal.waitFor();
    const text = await refusal.innerText();
    expect(text).toContain('Not sent — budget reached.');
    expect(text).toContain('Daily budget reached');
    expect(text).toContain('$0.0001');
    expect(text).toContain('Raise the daily budget in Costs → Budget');
    expect(h.wire.requests.length).toBe(requests);

    // The button leads to the budget; raised (with a warning at 1 %), chat works again.
    await refusal.getByRole('button', { name: 'Open the budget' }).click();
    const daily = page.getByLabel('Daily budget (USD)');
    await expect.poll(() => daily.evaluate((el) => el === document.activeElement)).toBe(true);
    // A cap whose 1 % lies between what is spent and what the next answer brings.
    await daily.fill(usdText(Math.ceil(firstCost * 150)));
    await page.getByLabel('Warn at (% of a cap)').fill('1');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    await send(page, 'and now?');
    // The refused message is part of the conversation the model sees next.
    expect(await lastAnswer(page)).toBe('Echo: is this over budget?and now?');
    expect(h.wire.requests.length).toBe(requests + 1);

    const bell = page.getByRole('button', { name: /^Notices, 1 unread$/ });
    await bell.waitFor();
    await bell.click();
    const notice = page.getByRole('region', { name: 'Notices' }).locator('.notice-item');
    expect(await notice.innerText()).toMatch(/1% of your daily budget used/);
  });

  it('shows the pooled credit the manager puts on the instance, and a clear state once it is used up', async () => {
    // What the manager's admin.setPlanCaps writes, written here into the gateway's file (the gateway reads it again at once).
    const planCaps = (creditMicros: number | null) => {
      const store = openStore({ path: databasePath(h.dataDir) });
      try {
        const cursor = store.usagePage(0, 1_000).nextCursor;
        store.setPlanCaps({ dailyMicros: null, monthlyMicros: null, reason: null, ...(creditMicros === null ? {} : { creditMicros, creditAfter: cursor }) });
      } finally {
        store.close();
      }
    };
    planCaps(5_000_000);
    await page.reload();
    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    const credit = page.getByRole('status', { name: 'AI credit' });
    await credit.getByText('AI credit left: $5.00 of $5.00').waitFor();
    // Plain WebChat has no Billing page: it says where to top up, without a dead link.
    await credit.getByText("Top up on your account's Billing page.").waitFor();

    planCaps(0);
    await page.reload();
    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    const out = page.getByRole('alert', { name: 'AI credit' });
    await out.getByText('Not enough AI credit — top up.').waitFor();
    const requests = h.wire.requests.length;
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    await send(page, 'with no credit left?');
    await page.locator('.budget-refusal').filter({ hasText: 'Not enough AI credit' }).waitFor();
    expect(h.wire.requests.length).toBe(requests);

    planCaps(null);
    await page.reload();
    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    await page.getByRole('heading', { name: 'Budget' }).waitFor();
    expect(await page.getByLabel('AI credit').count()).toBe(0);
  });

  it('rejects bad caps in the form and changes nothing', async () => {
    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    const daily = page.getByLabel('Daily budget (USD)');
    const before = await daily.inputValue();
    for (const bad of ['-1', 'abc', '1e9', '0.0000001']) {
      await daily.fill(bad);
      await page.getByRole('button', { name: 'Save budget' }).click();
      await page.getByText('Enter dollars, e.g. 2.50').waitFor();
      expect(await daily.getAttribute('aria-invalid')).toBe('true');
    }
    await page.reload();
    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    expect(await page.getByLabel('Daily budget (USD)').inputValue()).toBe(before);
  });

  it('fits a 390-pixel-wide window, in dark mode too', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Costs', exact: true }).click();
    await page.locator('.cost-chart-canvas canvas').first().waitFor();
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      chart: document.querySelector('.cost-chart-canvas canvas')?.getBoundingClientRect().right ?? 0,
      background: getComputedStyle(document.body).backgroundColor,
    }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.chart).toBeLessThanOrEqual(390);
    expect(widths.background).toBe('rgb(19, 21, 24)');
  });
});
