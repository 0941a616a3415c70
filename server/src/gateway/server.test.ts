import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { openStore } from '../store';
import type { GatewayConfig } from './config';
import { isLoopbackHost } from './config';
import { silentLogger } from './logger';
import { findRunningGateway, runtimeFilePath } from './runtime-file';
import { startGateway } from './server';
import { openAuthedSocket, startTestGateway } from './test-kit';

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid ?? 999_999;
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('gateway lifecycle', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-life-'));
    dirs.push(dir);
    return dir;
  };
  const config = (dataDir: string): GatewayConfig => ({ dataDir, port: 0, host: '127.0.0.1', allowOrigins: [], env: {} });
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the runtime file after listen and removes it on close', async () => {
    const dir = tempDir();
    const gateway = await startGateway(config(dir), { logger: silentLogger });
    const info = JSON.parse(readFileSync(runtimeFilePath(dir), 'utf8')) as Record<string, unknown>;
    expect(info).toEqual({ pid: process.pid, port: gateway.port, url: `http://127.0.0.1:${gateway.port}`, startedAt: expect.any(Number) });
    expect(findRunningGateway(dir)?.url).toBe(gateway.url);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    await gateway.close();
    expect(existsSync(runtimeFilePath(dir))).toBe(false);
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
  });

  it('ignores and replaces a stale runtime file, but refuses to start twice on one directory', async () => {
    const dir = tempDir();
    writeFileSync(runtimeFilePath(dir), JSON.stringify({ pid: deadPid(), port: 1, url: 'http://127.0.0.1:1', startedAt: 0 }));
    expect(findRunningGateway(dir)).toBeNull();
    const gateway = await startGateway(config(dir), { logger: silentLogger });
    try {
      expect(findRunningGateway(dir)?.pid).toBe(process.pid);
      const second = startGateway(config(dir), { logger: silentLogger });
      await expect(second).rejects.toSatisfy((e) => AppError.is(e, 'CONFLICT'));
    } finally {
      await gateway.close();
    }
  });

  it('says so when the port is taken', async () => {
    const first = await startGateway(config(tempDir()), { logger: silentLogger });
    try {
      const second = startGateway({ ...config(tempDir()), port: first.port }, { logger: silentLogger });
      await expect(second).rejects.toSatisfy((e) => AppError.is(e, 'CONFLICT') && /already in use/.test(e.message));
    } finally {
      await first.close();
    }
  });

  it('makes the data directory with its key files on first use', async () => {
    const dir = join(tempDir(), 'fresh');
    const gateway = await startGateway(config(dir), { logger: silentLogger });
    await gateway.close();
    for (const file of ['data.key', 'operator.key', 'gateway.db']) expect(existsSync(join(dir, file)), file).toBe(true);
    const store = openStore({ path: join(dir, 'gateway.db') });
    try {
      expect(store.listDevices().map((d) => d.kind)).toEqual(['operator']);
      expect(store.dump()).not.toContain(readFileSync(join(dir, 'data.key')).toString('base64'));
    } finally {
      store.close();
    }
  });

  it('closes gracefully with open sockets and a running turn: no handle left, the turn marked interrupted', async () => {
    const baseline = resourceCounts();
    const t = await startTestGateway();
    const socket = await openAuthedSocket(t.url, t.addDevice());
    const session = (await socket.call('mutation', 'sessions.ensure', { name: 'main' }))['result'] as { data: { id: string } };
    socket.send({ id: 50, method: 'subscription', params: { path: 'chat.events', input: { sessionId: session.data.id } } });
    const sent = (await socket.call('mutation', 'chat.send', { sessionId: session.data.id, clientId: 'hang-client-1', text: 'please /hang' }))[
      'result'
    ] as { data: { message: { id: string } } };
    await socket.next((m) => JSON.stringify(m).includes('"type":"delta"'));
    const dir = t.dir;
    const dbPath = join(dir, 'gateway.db');
    const closing = t.gateway.close();
    expect((await socket.closed).code).toBe(1001);
    await closing;
    const store = openStore({ path: dbPath });
    try {
      expect(store.getMessage(sent.data.message.id)?.status).toMatch(/interrupted|cancelled/);
    } finally {
      store.close();
    }
    await t.close();
    await new Promise((r) => setTimeout(r, 50));
    // Nothing the gateway opened is still there (earlier tests' leftovers may have gone too).
    for (const [kind, count] of Object.entries(resourceCounts())) expect([kind, count]).toEqual([kind, Math.min(count, baseline[kind] ?? 0)]);
  });

  it('knows which hosts are loopback', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('100.64.0.7')).toBe(false);
  });
});
