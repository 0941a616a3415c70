import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { REPO_ROOT, history } from './support/gateway-process';
import { startHarness, type Harness } from './support/harness';
import { DEFAULT_MODEL, priceFor } from '@autoclaw/shared';
import { assistantMessages, connection, expectCount, lastAnswer, openAndPair, recordAnswers, send, userMessages, waitOnline } from './support/webchat';

describe('WebChat in Chromium against a real gateway', () => {
  let h: Harness;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness();
    page = await h.newPage();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('pairs with the one-time code and shows the chat', async () => {
    await openAndPair(page, h.baseUrl, h.dataDir);
    await expect.poll(() => page.getByRole('navigation', { name: 'Conversations' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Message', { exact: true }).isEnabled()).toBe(true);
    await page.getByText('No conversations yet').waitFor();
  });

  it('streams the answer in: partial text shows before the end', async () => {
    const text = `/slow ${Array.from({ length: 24 }, (_, i) => `word${i}`).join(' ')}`;
    const samples = await recordAnswers(page);
    await send(page, text);
    await expectCount(userMessages(page), 1);
    expect(await lastAnswer(page)).toBe(`Echo: ${text}`);
    // While it streamed, the user saw growing prefixes of the answer.
    const partial = (await samples()).filter((s) => s.status === 'streaming' && s.text.length > 0);
    expect(partial.length).toBeGreaterThan(3);
    for (const sample of partial) expect(`Echo: ${text}`.startsWith(sample.text)).toBe(true);
    expect(partial.some((sample) => sample.text.length < `Echo: ${text}`.length / 2)).toBe(true);
    // Usage footer of the default model, priced by the shared table (or "unpriced").
    const cost = priceFor(DEFAULT_MODEL.provider, DEFAULT_MODEL.model) ? '\\$' : 'unpriced';
    const footer = await assistantMessages(page).last().locator('footer').innerText();
    expect(footer).toMatch(new RegExp(`^${DEFAULT_MODEL.model.replace(/[.]/g, '\\.')} · \\d+ in · \\d+ out · ${cost}`));
    // The conversation (made by name, "main") shows in the sidebar, open.
    await expectCount(page.locator('.session.active'), 1);
  });

  it('queues a message sent while a turn runs and shows it after that turn', async () => {
    const first = `/slow ${Array.from({ length: 30 }, (_, i) => `q${i}`).join(' ')}`;
    await send(page, first);
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await send(page, 'queued one');
    await userMessages(page).filter({ hasText: 'queued one' }).and(page.locator('[data-status="queued"]')).waitFor();
    await assistantMessages(page).filter({ hasText: 'Echo: queued one' }).and(page.locator('[data-status="done"]')).waitFor();
    const order = await page.locator('article').locator('.plain-text, .markdown').allInnerTexts();
    expect(order.slice(-4).map((t) => t.trim())).toEqual([first, `Echo: ${first}`, 'queued one', 'Echo: queued one']);
  });

  it('asks before a risky tool runs, runs it after Approve and shows the result', async () => {
    await send(page, '/tool workspace_write_file {"path":"notes.txt","content":"hi"}');
    const approval = page.getByRole('group', { name: 'Approve workspace_write_file?' });
    await approval.waitFor();
    expect(existsSync(join(h.dataDir, 'workspace', 'notes.txt'))).toBe(false);
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.waitFor({ state: 'detached' });
    const call = page.getByTestId('tool-call').last();
    await call.locator('.tool-status.status-done').waitFor();
    expect(readFileSync(join(h.dataDir, 'workspace', 'notes.txt'), 'utf8')).toBe('hi');
    await call.locator('summary').click();
    expect(await call.getByLabel('Result of workspace_write_file').innerText()).not.toBe('');
    expect(await lastAnswer(page)).toMatch(/^Tool workspace_write_file returned:/);
  });

  it('renders markdown with highlighted code and strips anything executable', async () => {
    await send(page, 'Look: **bold** <img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>\n```js\nconst a = 1;\n```');
    await expect.poll(() => assistantMessages(page).count()).toBeGreaterThanOrEqual(3);
    await lastAnswer(page);
    const last = assistantMessages(page).last();
    expect(await last.locator('strong').innerText()).toBe('bold');
    expect(await last.locator('pre code.hljs .hljs-keyword').first().innerText()).toBe('const');
    expect(await last.locator('script, img[onerror]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows the same history after a reload', async () => {
    const texts = () => page.locator('article').locator('.plain-text, .markdown, .tool-name, footer').allInnerTexts();
    const before = await texts();
    expect(before.length).toBeGreaterThanOrEqual(8);
    await page.reload();
    await waitOnline(page);
    await expect.poll(texts, { timeout: 15_000 }).toEqual(before);
    const stored = await history(h.dataDir, 'main');
    expect(stored.filter((m) => m.role === 'user')).toHaveLength(5);
  });

  it('switches to dark mode, keeps it after a reload, and looks right in both (screenshots)', async () => {
    const out = join(REPO_ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    await page.getByLabel('Theme').selectOption('light');
    await page.screenshot({ path: join(out, 'webchat-light.png') });
    const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.getByLabel('Theme').selectOption('dark');
    await page.reload();
    await waitOnline(page);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(darkBg).not.toBe(lightBg);
    await page.screenshot({ path: join(out, 'webchat-dark.png') });
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Provider keys' }).waitFor();
    await page.screenshot({ path: join(out, 'webchat-settings-dark.png'), fullPage: true });
  });

  it('fits a 390-px-wide window: the header in two rows (the views in one row that scrolls sideways), nothing wider than the window', async () => {
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      const header = await page.locator('.app-header').boundingBox();
      const brand = await page.locator('.app-header .brand').boundingBox();
      const nav = page.getByRole('navigation', { name: 'Main' });
      const buttons = await nav.getByRole('button').evaluateAll((els) => els.map((el) => Math.round(el.getBoundingClientRect().top)));
      // Every view on one line, below the brand's row.
      expect(new Set(buttons).size).toBe(1);
      expect(buttons[0]).toBeGreaterThan((brand?.y ?? 0) + (brand?.height ?? 0) - 1);
      expect(header?.height ?? 999).toBeLessThan(110);
      // Online is the dot; its word stays for screen readers.
      await expect.poll(() => connection(page).getAttribute('data-status')).toBe('online');
      expect(await connection(page).textContent()).toContain('Online');
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('stops a running turn with Esc and offers Retry', async () => {
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    await send(page, '/hang wait for me');
    const answer = assistantMessages(page).last();
    await answer.and(page.locator('[data-status="streaming"]')).filter({ hasText: 'Echo: /hang' }).waitFor();
    const stop = page.getByRole('button', { name: 'Stop' });
    await stop.waitFor();
    await page.keyboard.press('Escape');
    await answer.and(page.locator('[data-status="cancelled"]')).waitFor();
    await stop.waitFor({ state: 'detached' });
    expect(await answer.getByText('cancelled').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBeGreaterThan(0);
  });

  it('sends with Enter and adds a line with Shift+Enter', async () => {
    const box = page.getByLabel('Message', { exact: true });
    await box.click();
    await box.pressSequentially('line one');
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    expect(await box.inputValue()).toBe('line one\nline two');
    await box.press('Enter');
    await userMessages(page).filter({ hasText: 'line two' }).waitFor();
    expect(await userMessages(page).last().locator('.plain-text').innerText()).toBe('line one\nline two');
    expect(await box.inputValue()).toBe('');
    expect(await lastAnswer(page)).toContain('line two');
  });

  it('starts a new chat with Alt+N and deletes a conversation after confirming', async () => {
    const rows = page.getByRole('navigation', { name: 'Conversations' }).getByRole('listitem');
    const before = await rows.count();
    await page.keyboard.press('Alt+N');
    await expectCount(rows, before + 1);
    await page.getByText('No messages yet. Say hello!').waitFor();
    await send(page, 'a short-lived chat');
    expect(await lastAnswer(page)).toBe('Echo: a short-lived chat');

    const active = page.locator('.session.active');
    await active.getByRole('button', { name: /^Delete conversation/ }).click();
    const confirm = active.getByRole('group', { name: /^Delete/ });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await rows.count()).toBe(before + 1);
    await active.getByRole('button', { name: /^Delete conversation/ }).click();
    await active.getByRole('group', { name: /^Delete/ }).getByRole('button', { name: 'Delete' }).click();
    await expectCount(rows, before);
    // The remaining conversation opens; its history is intact.
    await userMessages(page).filter({ hasText: 'line two' }).waitFor();
  });
});
