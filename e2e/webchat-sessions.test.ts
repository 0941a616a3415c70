/**
 * The sessions sidebar pages (issue 8, item 6): with more conversations
 * than one page, it shows the newest page and a "Show more conversations"
 * button, reachable by keyboard, that loads the next one.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openStore } from '../server/src/store';
import { startHarness, type Harness } from './support/harness';
import { openAndPair } from './support/webchat';

const COUNT = 120;

describe('WebChat sessions sidebar with many conversations', () => {
  let h: Harness;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness();
    // Straight into the running gateway's store (SQLite WAL takes a second
    // writer), one millisecond apart so "newest first" is one order.
    let at = Date.now() - 10 * COUNT;
    const store = openStore({ path: join(h.dataDir, 'gateway.db'), now: () => at });
    try {
      for (let i = 0; i < COUNT; i++) {
        at += 1;
        store.createSession({ title: `Conversation ${String(i).padStart(3, '0')}` });
      }
    } finally {
      store.close();
    }
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows the newest page first and loads the rest with a keyboard-reachable button', async () => {
    const sidebar = page.getByRole('navigation', { name: 'Conversations' });
    const rows = sidebar.getByRole('listitem');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(50);
    expect(await rows.first().innerText()).toContain('Conversation 119');

    const more = sidebar.getByRole('button', { name: 'Show more conversations' });
    await more.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(100);
    await more.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(COUNT);
    expect(await rows.last().innerText()).toContain('Conversation 000');
    // Every conversation once, and no button once all are loaded.
    const titles = await sidebar.locator('.session-title').allInnerTexts();
    expect(new Set(titles).size).toBe(COUNT);
    expect(await more.count()).toBe(0);
  });
});
