/** A real Chromium (Debian's, or any Chrome) driven by playwright-core. A missing browser fails the test; it is never skipped. */
import { chromium, type Browser } from 'playwright-core';
import { findChromium } from '../../scripts/test-prereqs.mjs';

export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error('No Chromium or Chrome found: run `npm test` (it installs one when it can) or set AUTOCLAW_CHROMIUM=/path/to/chromium.');
  }
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
