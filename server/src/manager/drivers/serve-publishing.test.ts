/**
 * Serve publishing around a driver, against a LocalAPI test server on a Unix
 * socket; the driver underneath is a small recording double (the real local
 * driver is covered end to end by manager/tailscale-serve.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { createLocalApiClient } from '../../tailscale';
import { startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../../testing';
import { createLogger } from '../gateway-parts';
import { createServePublishing, type ServePublishing } from './serve-publishing';
import type { DriverStatus, InstanceDriver, InstanceRuntime, InstanceSpec } from './types';

const NODE = 'box.tail1234.ts.net';
let dir: string;
let server: TailscaleLocalApiServer;
let logs: string[];
let serve: ServePublishing;

/** Starts instances on the ports it is told, remembers them, reports them in status(). */
function recordingDriver(ports: number[]): InstanceDriver & { destroyed: string[] } {
  const running = new Map<string, number>();
  const destroyed: string[] = [];
  const start = async (spec: InstanceSpec): Promise<InstanceRuntime> => {
    const port = ports.shift() ?? 0;
    running.set(spec.instanceId, port);
    return { url: `http://127.0.0.1:${port}`, pid: 1, port };
  };
  return {
    kind: 'local',
    destroyed,
    provision: start,
    start,
    async stop() {},
    async destroy(id) {
      destroyed.push(id);
      running.delete(id);
    },
    async status(id): Promise<DriverStatus> {
      const port = running.get(id);
      return { alive: port !== undefined, runtime: port === undefined ? null : { url: `http://127.0.0.1:${port}`, port } };
    },
    async adopt(id) {
      const port = running.get(id);
      return port === undefined ? null : { url: `http://127.0.0.1:${port}`, port };
    },
    async close() {},
  };
}

const spec = (instanceId: string) => ({ instanceId }) as InstanceSpec;
const handlers = () => Object.keys((server.serveConfig as { Web?: Record<string, unknown> }).Web ?? {}).sort();

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-serve-pub-'));
  const socketPath = join(dir, 'tailscaled.sock');
  server = await startTailscaleLocalApiServer({ socketPath });
  logs = [];
  serve = createServePublishing({
    localapi: createLocalApiClient({ transport: { kind: 'unix', socketPath } }),
    logger: createLogger({ write: (line) => void logs.push(line) }),
  });
});

afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Serve publishing', () => {
  it('publishes on start, moves with the port, and unpublishes on destroy', async () => {
    expect(serve.deviceUrlOf({ id: 'a', port: 4100 } as Instance)).toBeNull();
    expect(await serve.init()).toBe(NODE);
    const driver = serve.wrap(recordingDriver([4100, 4200]));
    await driver.provision(spec('a'));
    expect(handlers()).toEqual([`${NODE}:4100`]);
    expect(serve.deviceUrlOf({ id: 'a', port: 4100 } as Instance)).toBe(`https://${NODE}:4100`);
    // A restart on another port: the old entry goes.
    await driver.start(spec('a'));
    expect(handlers()).toEqual([`${NODE}:4200`]);
    await driver.destroy('a');
    expect(handlers()).toEqual([]);
  });

  it('unpublishes what a previous manager published (port from the driver), and keeps others', async () => {
    const inner = recordingDriver([4300, 4400]);
    await serve.wrap(inner).provision(spec('a'));
    await serve.wrap(inner).provision(spec('b'));
    const restarted = createServePublishing({ localapi: createLocalApiClient({ transport: { kind: 'unix', socketPath: join(dir, 'tailscaled.sock') } }), logger: createLogger({ write: () => undefined }) });
    await restarted.wrap(inner).destroy('a');
    expect(inner.destroyed).toEqual(['a']);
    expect(handlers()).toEqual([`${NODE}:4400`]);
  });

  it('fails a start it cannot publish, but keeps a re-adopted instance when tailscaled is away', async () => {
    const inner = recordingDriver([4500]);
    const driver = serve.wrap(inner);
    server.failNext('/localapi/v0/serve-config', 500, 'serve config is locked');
    await expect(driver.provision(spec('a'))).rejects.toThrow(/serve config is locked/);
    await server.close();
    expect(await driver.adopt('a', null)).toEqual({ url: 'http://127.0.0.1:4500', port: 4500 });
    expect(logs.join('')).toContain('could not publish a re-adopted instance on the tailnet');
    // destroy still works (the Serve entry cannot be removed now; that is a warning).
    await driver.destroy('a');
    expect(logs.join('')).toContain('could not remove the instance from Tailscale Serve');
    server = await startTailscaleLocalApiServer({ socketPath: join(dir, 'tailscaled.sock') });
  });
});
