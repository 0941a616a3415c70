/**
 * What the manager UI's end-to-end tests start before their tests and stop
 * after: a data directory, a provider that speaks the OpenAI wire protocol,
 * the real manager and a Chromium page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startOpenAIWireServer } from '../../server/src/testing/openai-wire-server';
import type { WireServerHandle } from '../../server/src/testing/wire-server-base';
import type { WireServerOptions } from '../../server/src/testing/wire-types';
import { launchChromium } from './browser';
import { makeDataDir, removeDataDir } from './gateway-process';
import { startManager, type ManagerProcess, type StartManagerOptions } from './manager-process';

export interface ManagerInChromium {
  dataDir: string;
  wire: WireServerHandle;
  manager: ManagerProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

export async function startManagerInChromium(options: { wire: WireServerOptions; manager?: Omit<StartManagerOptions, 'dataDir'> }): Promise<ManagerInChromium> {
  const dataDir = makeDataDir();
  const wire = await startOpenAIWireServer(options.wire);
  const manager = await startManager({ ...options.manager, dataDir });
  const browser = await launchChromium();
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { dataDir, wire, manager, browser, context, page };
}

/** Stops what was started (any part may be missing when the start failed half-way). */
export async function stopManagerInChromium(parts: Partial<ManagerInChromium>): Promise<void> {
  await parts.context?.close().catch(() => undefined);
  await parts.browser?.close().catch(() => undefined);
  await parts.manager?.stop();
  await parts.wire?.close();
  if (parts.dataDir) removeDataDir(parts.dataDir);
}
