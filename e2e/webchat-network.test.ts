import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { history } from './support/gateway-process';
import { startHarness, type Harness } from './support/harness';
import { assistantMessages, connection, lastAnswer, openAndPair, recordAnswers, send, userMessages, waitOnline } from './support/webchat';

/** The browser reaches the gateway through a TCP proxy the test can cut. */
describe('WebChat over a connection that drops', () => {
  let h: Harness;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness({ proxy: true });
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
  });

  function proxy() {
    if (!h.proxy) throw new Error('no proxy');
    return h.proxy;
  }

  it('resumes a stream cut in the middle, with the final text exactly once', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const text = `/slow ${words}`;
    const samples = await recordAnswers(page);
    await send(page, text);
    const answer = assistantMessages(page).last();
    await answer.and(page.locator('[data-status="streaming"]')).filter({ hasText: 'w3 ' }).waitFor();

    expect(proxy().liveSockets).toBe(1);
    proxy().blockSockets(true);
    proxy().severSockets();
    await connection(page).filter({ hasText: 'Offline' }).waitFor();
    const seenOffline = await answer.locator('.markdown').innerText();
    expect(seenOffline.trim().length).toBeLessThan(`Echo: ${text}`.length);
    // Stay away while the gateway keeps streaming (40 ms a word).
    await page.waitForTimeout(600);
    proxy().blockSockets(false);
    await waitOnline(page);

    expect(await lastAnswer(page)).toBe(`Echo: ${text}`);
    expect(await assistantMessages(page).count()).toBe(1);
    // Nothing was ever shown twice: always one answer, always a prefix of the final text.
    const seen = await samples();
    expect(seen.length).toBeGreaterThan(10);
    for (const sample of seen) {
      expect(sample.answers).toBeLessThanOrEqual(1);
      expect(`Echo: ${text}`.startsWith(sample.text)).toBe(true);
    }
    const stored = await history(h.dataDir, 'main');
    expect(stored.map((m) => [m.role, m.text])).toEqual([
      ['user', text],
      ['assistant', `Echo: ${text}`],
    ]);
  });

  it('keeps what is typed offline in the outbox (across a reload) and delivers it once', async () => {
    proxy().blockSockets(true);
    proxy().severSockets();
    await connection(page).filter({ hasText: 'Offline' }).waitFor();

    await send(page, 'typed while offline');
    const pending = page.locator('article[data-status="sending"]').filter({ hasText: 'typed while offline' });
    await pending.getByText('sending…').waitFor();

    // The page itself still loads (only WebSockets are cut); the outbox survives the reload.
    await page.reload();
    await pending.getByText('sending…').waitFor();
    expect(await connection(page).innerText()).not.toContain('Online');
    expect((await history(h.dataDir, 'main')).some((m) => m.text === 'typed while offline')).toBe(false);

    proxy().blockSockets(false);
    await waitOnline(page);
    await pending.waitFor({ state: 'detached' });
    // The acknowledged message shows before its answer exists: wait for the answer, not the previous one.
    await expect.poll(() => assistantMessages(page).filter({ hasText: 'typed while offline' }).count(), { timeout: 15_000 }).toBe(1);
    expect(await lastAnswer(page)).toBe('Echo: typed while offline');
    expect(await userMessages(page).filter({ hasText: 'typed while offline' }).count()).toBe(1);
    expect(await page.evaluate(() => localStorage.getItem('autoclaw.outbox.v1'))).toBe('[]');

    const stored = await history(h.dataDir, 'main');
    expect(stored.filter((m) => m.role === 'user' && m.text === 'typed while offline')).toHaveLength(1);
    expect(stored.filter((m) => m.role === 'assistant' && m.text === 'Echo: typed while offline')).toHaveLength(1);
  });
});
