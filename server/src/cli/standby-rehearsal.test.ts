/**
 * A warm standby's rehearsal runs the real gateway start on a directory of
 * its own, talks to it as a first client would (device auth over the
 * WebSocket, tRPC calls, a chat subscription), closes it and leaves nothing
 * behind; a rehearsal that cannot run throws (the standby logs it and serves on).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/server';
import type { GatewayConfig, GatewayOptions, RunningGateway } from '../gateway';
import { REHEARSAL_DIR, rehearseStart } from './standby-rehearsal';

describe('standby rehearsal', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const standbyDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'autoclaw-standby-'));
    dirs.push(d);
    // A standby's directory holds its log until it is handed an instance.
    writeFileSync(join(d, 'gateway.log'), '');
    return d;
  };

  it('starts a throwaway gateway, is served as a client, closes it and removes its directory', async () => {
    const dir = standbyDir();
    const seen: GatewayConfig[] = [];
    let running: RunningGateway | null = null;
    const recording = async (config: GatewayConfig, options?: GatewayOptions) => {
      seen.push(config);
      running = await startGateway(config, options);
      return running;
    };
    expect(await rehearseStart(recording, dir)).toEqual(['started', 'client', 'closed']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ dataDir: join(dir, REHEARSAL_DIR), host: '127.0.0.1', port: 0 });
    // Closed: nothing answers at its address any more.
    await expect(fetch(`${running!.url}/healthz`)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['gateway.log']);
  }, 60_000);

  it('handed over meanwhile (its directory removed by the manager), it leaves no directory behind', async () => {
    const dir = standbyDir();
    const handedOver = async (config: GatewayConfig, options?: GatewayOptions) => {
      rmSync(join(dir, 'gateway.log'));
      return startGateway(config, options);
    };
    expect(await rehearseStart(handedOver, dir)).toEqual(['started', 'client', 'closed']);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('a start that fails is thrown, and its directory is removed', async () => {
    const dir = standbyDir();
    const broken = async () => {
      throw new Error('no gateway here');
    };
    await expect(rehearseStart(broken, dir)).rejects.toThrow('no gateway here');
    expect(readdirSync(dir)).toEqual(['gateway.log']);
  });
});
