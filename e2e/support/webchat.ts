/** Steps a person takes in WebChat, by roles and labels (what a screen reader sees). */
import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { pairingCode } from './gateway-process';

export async function openAndPair(page: Page, baseUrl: string, dataDir: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('heading', { name: 'Pair this browser' }).waitFor();
  await page.getByLabel('Pairing code').fill(await pairingCode(dataDir));
  await page.getByRole('button', { name: 'Pair' }).click();
  await waitOnline(page);
}

export function connection(page: Page): Locator {
  return page.getByRole('status', { name: 'Connection' });
}

export async function waitOnline(page: Page): Promise<void> {
  await connection(page).filter({ hasText: 'Online' }).waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

export function assistantMessages(page: Page): Locator {
  return page.getByRole('article', { name: 'Assistant message' });
}

export function userMessages(page: Page): Locator {
  return page.getByRole('article', { name: 'You message' });
}

/** The rendered text of the last assistant answer once it is done. */
export async function lastAnswer(page: Page): Promise<string> {
  const last = assistantMessages(page).last();
  await last.and(page.locator('[data-status="done"]')).waitFor();
  return (await last.locator('.markdown').innerText()).trim();
}

/** Polls until the locator's count is `count` (vitest's expect.poll with Playwright). */
export async function expectCount(locator: Locator, count: number): Promise<void> {
  await expect.poll(() => locator.count(), { timeout: 15_000 }).toBe(count);
}

/** One moment of the newest assistant answer, as the user saw it. */
export interface AnswerSample {
  answers: number;
  status: string;
  text: string;
}

/**
 * Records every version of the newest assistant answer from now on (a
 * MutationObserver, so no state is missed however fast it streams).
 */
export async function recordAnswers(page: Page): Promise<() => Promise<AnswerSample[]>> {
  await page.evaluate(() => {
    const seen: AnswerSample[] = [];
    (window as unknown as { __answers: AnswerSample[] }).__answers = seen;
    const log = document.querySelector('.messages');
    if (!log) throw new Error('no message log');
    new MutationObserver(() => {
      const answers = document.querySelectorAll('article[aria-label="Assistant message"]');
      const last = answers[answers.length - 1];
      seen.push({
        answers: answers.length,
        status: last?.getAttribute('data-status') ?? '',
        text: (last?.querySelector('.markdown')?.textContent ?? '').trim(),
      });
    }).observe(log, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { __answers: AnswerSample[] }).__answers);
}
