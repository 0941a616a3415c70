/**
 * One end-to-end setup: a local server speaking the Anthropic wire protocol
 * (the real SDK in the gateway talks to it), the real gateway process on a
 * temp data directory, optionally a cuttable TCP proxy in front of it, and
 * Debian's Chromium. `close()` tears everything down.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAnthropicWireServer } from '../../server/src/testing/anthropic-wire-server';
import type { WireServerHandle } from '../../server/src/testing/wire-server-base';
import { launchChromium } from './browser';
import { makeDataDir, removeDataDir, startGateway, type GatewayProcess } from './gateway-process';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

export const TEST_API_KEY = 'sk-ant-e2e-test-key';

export interface Harness {
  readonly wire: WireServerHandle;
  readonly gateway: GatewayProcess;
  readonly proxy: TcpProxy | null;
  readonly browser: Browser;
  readonly dataDir: string;
  /** Where the browser opens WebChat: the gateway, or the proxy in front of it. */
  readonly baseUrl: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Give the gateway ANTHROPIC_API_KEY (default true). */
  envKey?: boolean;
  /** Put a cuttable TCP proxy between browser and gateway. */
  proxy?: boolean;
  /** More gateway flags. */
  gatewayArgs?: string[];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };
  try {
    const dataDir = makeDataDir();
    cleanups.push(() => removeDataDir(dataDir));
    // The wire server insists on the key, so "no key" and "wrong key" are real failures.
    const wire = await startAnthropicWireServer({ apiKey: TEST_API_KEY });
    cleanups.push(() => wire.close());
    const proxy = options.proxy ? await startTcpProxy() : null;
    if (proxy) cleanups.push(() => proxy.close());

    const env: Record<string, string> = { ANTHROPIC_BASE_URL: wire.url };
    if (options.envKey ?? true) env.ANTHROPIC_API_KEY = TEST_API_KEY;
    const gateway = await startGateway({ dataDir, env, allowOrigins: proxy ? [proxy.origin] : [], args: options.gatewayArgs ?? [] });
    cleanups.push(() => gateway.stop());
    proxy?.setTarget(gateway.port);

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const contexts: BrowserContext[] = [];

    return {
      wire,
      gateway,
      proxy,
      browser,
      dataDir,
      baseUrl: proxy ? proxy.origin : gateway.url,
      async newPage() {
        const context = await browser.newContext();
        contexts.push(context);
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        return page;
      },
      async close() {
        for (const context of contexts) await context.close().catch(() => undefined);
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
