/**
 * Scale to zero on a real manager with the local driver: an idle instance
 * (no client, no turn, no channel that needs a live process) sleeps — its
 * gateway process ends — and the next client through the one door wakes
 * it, held until it is ready; 20 clients at once wake it once; a wake that
 * fails leaves it `failed` with the reason, and the held clients get HTTP
 * 503 with a typed body or a WebSocket close with the reason; a client whose
 * network drops mid-conversation reconnects through the door and loses
 * nothing it sent. The sleeper's
 * rounds are run by the test (its own interval is an hour).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WS_CLOSE_DOOR_REFUSED, WS_CLOSE_WAKE_FAILED } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import { connectAsDevice } from '../cli';
import { databasePath } from '../gateway';
import { generateDeviceKey, signPayload } from '../security';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { testEngine } from './db/test-db';
import { instanceDir } from './drivers/local';
import { isProcessAlive } from './drivers/local/process-info';
import { bundleGatewayCommand, killGateways, waitDead, waitFor } from './drivers/local/test-support';
import { pairWithTicket } from './instances/gateway-link';
import { createRunningInstance, startTestManager, wsCloseOf, wsUpgradeStatus } from './test-kit';
import type { TestManager } from './test-kit';

const API_KEY = 'sk-ant-sleep-test-0123456789abcdef';

describe(`sleep and wake through the door (${testEngine()})`, () => {
  let t: TestManager;
  let wire: WireServerHandle;
  let dispose: () => void;
  let instance: Instance;
  let token: string;
  let key: ReturnType<typeof generateDeviceKey>;
  let door: string;
  const owner = () => ({ authorization: `Bearer ${token}` });

  const service = () => {
    const s = t.manager.services.instances;
    if (!s) throw new Error('no instances part');
    return s;
  };
  const state = async () => (await service().mustGet(instance.id)).state;
  /** Sleeper rounds until the instance sleeps (it has been idle longer than the 50 ms setting by then). */
  const putToSleep = () =>
    waitFor('the instance to sleep', async () => {
      await t.manager.sleepRound();
      return (await state()) === 'sleeping';
    }, 20_000, 60);

  beforeAll(async () => {
    wire = await startAnthropicWireServer();
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    t = await startTestManager({
      options: { instances: { localDriver: { command: bundle.command }, idle: { sleepAfterMs: 50, checkEveryMs: 3_600_000 }, wakeTimeoutMs: 30_000 } },
    });
    token = (await t.setupOwner('sleeper@example.com')).token;
    const api = t.client(token);
    instance = await createRunningInstance(api);
    door = `${t.url}/i/${instance.id}`;
    key = generateDeviceKey();
    const { ticket } = await api.instances.pairDevice.mutate({ instanceId: instance.id, publicKey: key.publicKey, deviceName: 'laptop' });
    await pairWithTicket(door, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) }, Date.now, owner());
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    await wire.close();
    dispose();
  });

  it('a connected client keeps it awake; idle, it sleeps and its process is gone; a client through the door wakes it and is answered', async () => {
    const conn = connectAsDevice({ url: door, key, headers: owner() });
    try {
      await conn.call(conn.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: wire.url, apiKey: API_KEY }));
      await conn.call(conn.client.settings.set.mutate({ key: 'model', value: 'anthropic:claude-test-model' }));
      // The gateway tells the manager what keeps it awake: this client (the manager's own socket is not counted).
      expect(await service().activity(instance.id)).toEqual({ busySessions: 0, clients: 1, keepAwake: [] });
      await t.manager.sleepRound();
      await t.manager.sleepRound();
      expect(await state()).toBe('running');
    } finally {
      await conn.close();
    }
    const pid = (await service().mustGet(instance.id)).pid as number;
    expect(isProcessAlive(pid)).toBe(true);
    await putToSleep();
    await waitDead(pid);
    const asleep = await t.client(token).instances.mine.query();
    expect(asleep).toMatchObject({ state: 'sleeping' });
    expect(asleep?.pid).toBeUndefined();
    const events = await service().events(instance.id);
    expect(events.find((e) => e.to === 'sleeping')?.message).toMatch(/^idle for .*: no client, no turn, no channel that needs a live process$/);

    // The next client: held while it wakes, then it chats as before.
    const again = connectAsDevice({ url: door, key, headers: owner() });
    try {
      const session = await again.call(again.client.sessions.create.mutate({}));
      await again.call(again.client.chat.send.mutate({ sessionId: session.id, clientId: 'wake-msg-0001', text: 'hello after a nap' }));
      const answer = await waitFor('the answer', async () => {
        const history = await again.call(again.client.chat.history.query({ sessionId: session.id }));
        return history.find((m) => m.role === 'assistant' && m.status === 'done' && m.text.length > 0) ?? null;
      }, 20_000);
      expect(answer.text.length).toBeGreaterThan(0);
    } finally {
      await again.close();
    }
    const awake = await service().mustGet(instance.id);
    expect(awake.state).toBe('running');
    expect(awake.pid !== undefined && awake.pid !== pid && isProcessAlive(awake.pid)).toBe(true);
    const woken = (await service().events(instance.id)).filter((e) => e.from === 'sleeping');
    expect(woken.map((e) => [e.to, e.message])).toEqual([['starting', 'woken: a client came through the door']]);
  });

  it('20 clients connecting at once to a sleeping instance wake it exactly once, and every one is served', async () => {
    await putToSleep();
    const before = (await service().lastEvents(instance.id, 1))[0]?.id ?? 0;
    const wsBase = door.replace(/^http/, 'ws');
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => fetch(`${door}/healthz`, { headers: owner() }).then((r) => r.status)),
      ...Array.from({ length: 10 }, () => wsUpgradeStatus(`${wsBase}/trpc?connectionParams=1`, undefined, owner())),
    ]);
    expect(results).toEqual([...Array<number>(10).fill(200), ...Array<number>(10).fill(101)]);
    const after = await service().events(instance.id, before);
    expect(after.filter((e) => e.from === 'sleeping' && e.to === 'starting')).toHaveLength(1);
    expect(after.filter((e) => e.to === 'running')).toHaveLength(1);
    expect(await state()).toBe('running');
  });

  it('a client whose network drops while it talks through the door reconnects, and nothing it sent is lost', async () => {
    // The client's network: a loopback TCP proxy in front of the manager. `cut` drops every connection
    // (as a lost Wi-Fi does); while `held`, new connections wait unforwarded until the network is back.
    const upstream = new URL(t.url);
    const sockets = new Set<Socket>();
    const held: Array<() => void> = [];
    let holding = false;
    let arrived: () => void = () => {};
    const proxy = createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      const forward = () => {
        const server = connect({ host: upstream.hostname, port: Number(upstream.port) });
        sockets.add(server);
        server.on('close', () => sockets.delete(server));
        server.on('error', () => client.destroy());
        client.on('close', () => server.destroy());
        server.on('close', () => client.destroy());
        client.pipe(server).pipe(client);
      };
      if (!holding) return forward();
      held.push(forward);
      arrived();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const through = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/i/${instance.id}`;
    // The manager's Host check sees its own address, as behind a proxy that keeps the Host header.
    const conn = connectAsDevice({ url: through, key, headers: { ...owner(), host: upstream.host }, maxConnectAttempts: 50 });
    try {
      await conn.call(conn.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: wire.url, apiKey: API_KEY }));
      await conn.call(conn.client.settings.set.mutate({ key: 'model', value: 'anthropic:claude-test-model' }));
      const session = await conn.call(conn.client.sessions.create.mutate({}));
      await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'drop-msg-0001', text: 'before the drop' }));
      // The network drops just as the client sends: the send may or may not have reached the gateway.
      holding = true;
      const reconnecting = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      for (const s of sockets) s.destroy();
      const cutShort = Promise.allSettled([conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'drop-msg-0002', text: 'during the drop' }))]);
      // The client reconnects through the door (held at the proxy until the network is back).
      await reconnecting;
      holding = false;
      for (const forward of held.splice(0)) forward();
      await cutShort;
      // The app sends again what it has no acknowledgement for — here both, with the same client ids.
      await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'drop-msg-0002', text: 'during the drop' }));
      await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'drop-msg-0001', text: 'before the drop' }));
      const history = await waitFor('both answered', async () => {
        const h = await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
        return h.filter((m) => m.role === 'assistant' && m.status === 'done').length >= 2 ? h : null;
      }, 40_000);
      expect(history.filter((m) => m.role === 'user').map((m) => m.text)).toEqual(['before the drop', 'during the drop']);
    } finally {
      await conn.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    // A reconnect, two turns and their answers: generous on a busy machine.
  }, 90_000);

  it('another account, or no account, cannot wake it: refused at the door, and it sleeps on', async () => {
    await putToSleep();
    const before = (await service().lastEvents(instance.id, 1))[0]?.id ?? 0;
    await t.manager.services.accounts.createUser({ email: 'nosy@example.com', password: 'another horse battery' });
    const nosy = (await t.client().auth.signIn.mutate({ email: 'nosy@example.com', password: 'another horse battery' })).token;
    const res = await fetch(`${door}/healthz`, { headers: { authorization: `Bearer ${nosy}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    const ws = await wsCloseOf(`${door.replace(/^http/, 'ws')}/trpc?connectionParams=1`, { authorization: `Bearer ${nosy}` });
    expect(ws.code).toBe(WS_CLOSE_DOOR_REFUSED);
    expect((await fetch(`${door}/healthz`)).status).toBe(401);
    expect(await state()).toBe('sleeping');
    expect(await service().events(instance.id, before)).toEqual([]);
  });

  it('the app opened by its owner wakes it too (instances.start on a sleeping instance)', async () => {
    await putToSleep();
    await t.client(token).instances.start.mutate({ instanceId: instance.id });
    await waitFor('awake', async () => (await state()) === 'running', 20_000);
    const woken = (await service().lastEvents(instance.id, 10)).filter((e) => e.from === 'sleeping');
    expect(woken.at(-1)?.message).toBe('woken: its owner opened the app');
  });

  it('a wake that fails leaves the instance failed with the reason; held clients get HTTP 503 with a typed body and a WebSocket close with the reason', async () => {
    await putToSleep();
    // Its database is unreadable now: the gateway cannot start.
    const db = databasePath(instanceDir(t.dir, instance.id));
    for (const f of [`${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    writeFileSync(db, 'this is not a database '.repeat(200));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      const ws = new WebSocket(`${door.replace(/^http/, 'ws')}/trpc?connectionParams=1`, { headers: owner() });
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.once('error', () => undefined);
    });
    const res = await fetch(`${door}/healthz`, { headers: owner() });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(body.error.message).toMatch(/^your assistant could not wake: /);
    const ws = await closed;
    expect(ws.code).toBe(WS_CLOSE_WAKE_FAILED);
    expect(ws.reason).toMatch(/^your assistant could not wake/);
    const failed = await service().mustGet(instance.id);
    expect(failed.state).toBe('failed');
    expect(failed.lastError).toMatch(/^start: /);
    // Failed is not woken again by the next client: it is told at once.
    const next = await fetch(`${door}/healthz`, { headers: owner() });
    expect(next.status).toBe(409);
  });
});
