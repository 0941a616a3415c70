import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness';
import { assistantMessages, lastAnswer, openAndPair, send, userMessages } from './support/webchat';

describe('WebChat settings: a provider key entered in the browser', () => {
  let h: Harness;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness({ envKey: false });
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('fails a chat with a clear "no key" error while no key is set', async () => {
    await send(page, 'hello before the key');
    const failed = page.locator('article[data-status="failed"]').filter({ hasText: 'No Anthropic API key' });
    await failed.waitFor();
    expect(await failed.innerText()).toMatch(/Not configured: No Anthropic API key/);
    expect(await failed.getByRole('button', { name: 'Retry' }).isVisible()).toBe(true);
    expect(h.wire.requests).toHaveLength(0);
  });

  it('shows the key as "not set", saves it write-only, and then shows "set"', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const status = page.getByTestId('status-anthropic.apiKey');
    await status.filter({ hasText: 'not set' }).waitFor();
    const input = page.getByRole('textbox', { name: 'Anthropic API key' });
    expect(await input.getAttribute('type')).toBe('password');
    await input.fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Save Anthropic API key' }).click();
    await status.filter({ hasText: /^set$/ }).waitFor();
    expect(await input.inputValue()).toBe('');
    // The page never gets the key back.
    expect(await page.content()).not.toContain(TEST_API_KEY);
  });

  it('answers once the key is set: Retry recovers the failed turn, new messages stream', async () => {
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    await page.getByRole('button', { name: 'Retry' }).click();
    expect(await lastAnswer(page)).toBe('Echo: hello before the key');
    expect(await page.locator('article[data-status="failed"]').count()).toBe(0);
    // The wire server refuses any other key, so this answer used the one typed in Settings.
    const headers = h.wire.requests.at(-1)?.headers;
    expect([headers?.['x-api-key'], headers?.authorization]).toContainEqual(expect.stringContaining(TEST_API_KEY));

    await send(page, 'hello after the key');
    await expect.poll(() => assistantMessages(page).count(), { timeout: 15_000 }).toBe(2);
    expect(await lastAnswer(page)).toBe('Echo: hello after the key');
    expect(await userMessages(page).count()).toBe(2);
  });
});
