/**
 * The Channels page in Chromium: Telegram configured against a local Bot API
 * server through the page, a DM answered, the true state shown, a
 * stranger's pairing code approved in the page — and the page at 390 px and
 * in dark mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHANNEL_DEFINITIONS } from '../server/src/channels/registry';
import { startTelegramBotApiServer, type TelegramBotApiServer, type TgUser } from '../server/src/testing/telegram-bot-api-server';
import { startHarness, type Harness } from './support/harness';
import { openAndPair } from './support/webchat';

const ALICE: TgUser = { id: 31337, first_name: 'Alice' };
const MALLORY: TgUser = { id: 6666, first_name: 'Mallory' };

describe('Channels page: Telegram', () => {
  let h: Harness;
  let tg: TelegramBotApiServer;
  let page: Page;

  beforeAll(async () => {
    tg = await startTelegramBotApiServer();
    h = await startHarness();
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
    await tg?.close();
  });

  const state = () => page.getByRole('status', { name: 'Telegram state' });

  it('shows every platform with set-up help, and Telegram disabled', async () => {
    await page.getByRole('button', { name: 'Channels' }).click();
    await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
    const tabs = page.getByRole('tablist', { name: 'Chat apps' }).getByRole('tab');
    const labels = CHANNEL_DEFINITIONS.map((d) => d.label);
    expect(await tabs.allInnerTexts()).toEqual(labels.map((n) => expect.stringContaining(n)));
    await state().filter({ hasText: 'Disabled' }).waitFor();
    expect(await page.getByText('open @BotFather and send /newbot').isVisible()).toBe(true);
    // Keyboard: arrows move between platforms (and wrap around).
    await tabs.first().focus();
    await page.keyboard.press('ArrowDown');
    await page.getByRole('status', { name: `${labels[1 % labels.length]} state` }).waitFor();
    await page.keyboard.press('ArrowUp');
    await state().waitFor();
    expect(await tabs.first().getAttribute('aria-selected')).toBe('true');
  });

  it('takes the token write-only and the API root, and says down until it is set', async () => {
    await page.getByRole('button', { name: 'Enable Telegram' }).click();
    await state().filter({ hasText: 'Down: not configured: set telegram.botToken' }).waitFor();

    await page.getByText('Advanced').click();
    await page.getByRole('textbox', { name: 'Bot API root' }).fill(tg.url);
    await page.getByRole('button', { name: 'Save Bot API root' }).click();
    await page.getByRole('textbox', { name: 'Allowed user ids (comma-separated)' }).fill(String(ALICE.id));
    await page.getByRole('button', { name: 'Save Allowed user ids (comma-separated)' }).click();
    const token = page.getByRole('textbox', { name: 'Bot token' });
    expect(await token.getAttribute('type')).toBe('password');
    await token.fill(tg.token);
    await page.getByRole('button', { name: 'Save Bot token' }).click();
    await page.getByTestId('status-telegram.botToken').filter({ hasText: /^set$/ }).waitFor();
    expect(await token.inputValue()).toBe('');

    await state().filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    expect(await page.content()).not.toContain(tg.token);
    await page.getByRole('list', { name: 'State history' }).getByText('Connected').first().waitFor();
  });

  it('answers a DM from Telegram and shows when the last message came', async () => {
    tg.userMessage({ from: ALICE, text: 'hello from my phone' });
    await expect
      .poll(() => tg.sent.find((m) => m.chatId === ALICE.id)?.text, { timeout: 15_000 })
      .toBe('Echo: hello from my phone');
    await page.getByText(/^Last message /).waitFor();
    // The conversation is a session in the app too.
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('Telegram · Alice').waitFor();
  });

  it("lists a stranger's pairing code and approves it from the page", async () => {
    tg.userMessage({ from: MALLORY, text: 'who are you?' });
    await expect.poll(() => tg.sent.find((m) => m.chatId === MALLORY.id)?.text ?? '', { timeout: 15_000 }).toMatch(/pairing code is [A-Z0-9]{8}/);
    const code = /pairing code is ([A-Z0-9]{8})/.exec(tg.sent.find((m) => m.chatId === MALLORY.id)!.text)![1]!;
    const pending = page.getByRole('list', { name: 'Pending pairings' });
    await pending.getByText(code).waitFor();
    await page.getByRole('button', { name: 'Approve Mallory' }).click();
    await page.getByRole('list', { name: 'Approved senders' }).getByText('Mallory').waitFor();
    await expect.poll(() => tg.sent.filter((m) => m.chatId === MALLORY.id).map((m) => m.text).at(-1), { timeout: 15_000 }).toMatch(/^You are approved/);
    expect(h.wire.requests.every((r) => !JSON.stringify(r.body).includes('who are you?'))).toBe(true);
    tg.userMessage({ from: MALLORY, text: 'and now?' });
    await expect.poll(() => tg.sent.filter((m) => m.chatId === MALLORY.id).at(-1)?.text, { timeout: 15_000 }).toBe('Echo: and now?');
  });

  it('fits a 390-px-wide window in dark mode', async () => {
    await page.getByRole('combobox', { name: 'Theme' }).selectOption('dark');
    await page.setViewportSize({ width: 390, height: 800 });
    await state().filter({ hasText: 'Connected' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const background = await page.locator('.channel-panel .settings-section').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(background).toBe('rgb(27, 30, 34)');
    await page.getByRole('button', { name: 'Disable Telegram' }).click();
    await state().filter({ hasText: 'Disabled' }).waitFor();
  });
});
