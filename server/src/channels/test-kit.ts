/**
 * Test support for channel tests (never imported by product code): a
 * gateway with fast channel tuning, configured through its real tRPC
 * procedures by a paired device, and waits on what the Channels page and the
 * notices show.
 */
import { CHANNEL_ENDPOINT_SECRETS, type ChannelState, type ChannelStatus, type Notice, type SettingKey } from '@autoclaw/shared';
import type { GatewayConnection } from '../cli';
import { startTestGateway, type TestGateway } from '../gateway/test-kit';
import type { ChannelTuning } from './types';

export interface ChannelGateway {
  gw: TestGateway;
  conn: GatewayConnection;
  client: GatewayConnection['client'];
  set(key: SettingKey, value: string | null): Promise<void>;
  enable(name: ChannelStatus['name']): Promise<void>;
  /** Sets the settings, enables the channel and waits until it is connected. */
  connect(name: ChannelStatus['name'], settings: ReadonlyArray<readonly [SettingKey, string]>): Promise<void>;
  status(name: ChannelStatus['name']): Promise<ChannelStatus>;
  /** Resolves once the channel reports `state` (polls the real procedure). */
  waitForState(name: ChannelStatus['name'], state: ChannelState, timeoutMs?: number): Promise<ChannelStatus>;
  waitForNotice(pred: (n: Notice) => boolean, timeoutMs?: number): Promise<Notice>;
  /** Resolves once `pred` holds (checked every 20 ms). */
  until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/**
 * Settings in the order a user must give them: a channel's endpoint before its
 * tokens (a changed endpoint clears the tokens entered for the old one).
 */
export function endpointFirst<T extends readonly [string, string]>(settings: readonly T[]): T[] {
  const isEndpoint = (key: string) => key in CHANNEL_ENDPOINT_SECRETS;
  return [...settings.filter(([key]) => isEndpoint(key)), ...settings.filter(([key]) => !isEndpoint(key))];
}

export const FAST_TUNING: ChannelTuning = { pollTimeoutSec: 1, editIntervalMs: 50 };

export async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startChannelGateway(opts: { tuning?: ChannelTuning; dir?: string; keepDir?: boolean } = {}): Promise<ChannelGateway> {
  const gw = await startTestGateway({
    ...(opts.dir ? { dir: opts.dir } : {}),
    ...(opts.keepDir ? { keepDir: true } : {}),
    options: { channels: { tuning: opts.tuning ?? FAST_TUNING, backoffMs: () => 50 } },
  });
  const conn = gw.connect(gw.addDevice('channel test'));
  const { client } = conn;
  const status = async (name: ChannelStatus['name']) => {
    const found = (await client.channels.list.query()).find((s) => s.name === name);
    if (!found) throw new Error(`no channel ${name}`);
    return found;
  };
  return {
    gw,
    conn,
    client,
    async set(key, value) {
      await client.settings.set.mutate({ key, value });
    },
    async enable(name) {
      await client.channels.setEnabled.mutate({ name, enabled: true });
    },
    async connect(name, settings) {
      for (const [key, value] of endpointFirst(settings)) await client.settings.set.mutate({ key, value });
      await client.channels.setEnabled.mutate({ name, enabled: true });
      await until(`${name} to be connected`, async () => (await status(name)).state === 'connected', 15_000);
    },
    status,
    waitForState: (name, state, timeoutMs = 15_000) =>
      until(`${name} to be ${state}`, async () => {
        const s = await status(name);
        return s.state === state ? s : null;
      }, timeoutMs),
    waitForNotice: (pred, timeoutMs = 10_000) =>
      until('a notice', async () => (await client.notices.list.query({ limit: 50 })).notices.find(pred), timeoutMs),
    until,
    close: () => gw.close(),
  };
}
