/**
 * Restore into a new instance through the manager's tRPC procedures, on a
 * real manager (SQLite and PostgreSQL) with real gateway processes: the new
 * instance of the same account runs the backup's data (its store dump equals
 * the source's at the backup; its vault opens with its own key), the source
 * keeps running untouched; the account switches its primary and deletes the
 * old one. The new instance has a data key of its own: the restored secrets
 * (the provider key) are re-sealed under it — the source's key cannot open
 * them — and it answers through the provider with the restored key. Bad input (an unknown backup, another account's, a flipped byte)
 * is a typed error and changes nothing in the manager's database or on disk.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { openStore } from '../../store';
import { connectAsDevice } from '../../cli';
import { createSettings, createVault, generateDeviceKey, signPayload } from '../../security';
import { startAnthropicWireServer } from '../../testing';
import type { WireServerHandle } from '../../testing';
import { pairWithTicket } from '../instances/gateway-link';
import { testEngine } from '../db/test-db';
import { bundleGatewayCommand, killGateways, waitFor } from '../drivers/local/test-support';
import { loadManagerKeys, unwrapDataKey } from '../keys';
import { silentLogger } from '../gateway-parts';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';
import { dumpGatewayDb, seedMessages, userData } from './test-releases';

const PROVIDER_KEY = 'sk-ant-restored-into-new-0123456789';
let gateway: Awaited<ReturnType<typeof bundleGatewayCommand>>;
let wire: WireServerHandle;
let t: TestManager | null = null;

beforeAll(async () => {
  gateway = await bundleGatewayCommand();
  wire = await startAnthropicWireServer({ apiKey: PROVIDER_KEY });
}, 60_000);
afterAll(async () => {
  gateway?.dispose();
  await wire?.close();
});
afterEach(async () => {
  if (t) killGateways(t.dir);
  await t?.close();
  t = null;
});

const dbOf = (m: TestManager, id: string) => join(m.dir, 'instances', id, 'gateway.db');

/** A manager whose owner has a running instance with history; `token` is the owner's session. */
async function ownerWithInstance() {
  const m = await startTestManager({ options: { instances: { localDriver: { command: gateway.command } } } });
  t = m;
  const token = (await m.setupOwner('owner@example.com')).token;
  const api = m.client(token);
  await api.instances.create.mutate();
  const instance = await waitFor('running', async () => {
    const mine = await api.instances.mine.query();
    return mine?.state === 'running' ? mine : null;
  }, 30_000);
  await seedMessages(dbOf(m, instance.id), 40, 'before');
  return { m, api, token, instance };
}

const wrappedKeys = new Map<string, string>();
/** The instance's data key, as the manager keeps it (wrapped by its master key). */
function dataKeyOf(m: TestManager, id: string): Buffer {
  const keys = loadManagerKeys({ dataDir: m.dir, store: 'file', keychain: null, logger: silentLogger });
  return unwrapDataKey(keys.masterKey, wrappedKeys.get(id) as string, id);
}

/** The instance's vault, opened with its own data key. */
async function vaultOf(m: TestManager, id: string) {
  const row = await m.manager.services.db.k.selectFrom('instances').select('wrapped_key').where('id', '=', id).executeTakeFirstOrThrow();
  wrappedKeys.set(id, row.wrapped_key);
  return createVault(dataKeyOf(m, id));
}

/** A device paired through the door sends one message to the instance; resolves with the assistant's answer. */
async function askThroughDoor(m: TestManager, token: string, instanceId: string, text: string): Promise<string> {
  const door = `${m.url}/i/${instanceId}`;
  const owner = { authorization: `Bearer ${token}` };
  const device = generateDeviceKey();
  const { ticket } = await m.client(token).instances.pairDevice.mutate({ instanceId, publicKey: device.publicKey, deviceName: 'laptop' });
  await pairWithTicket(door, ticket, { publicKey: device.publicKey, sign: (p) => signPayload(device.privateKey, p) }, Date.now, owner);
  const conn = connectAsDevice({ url: door, key: device, headers: owner, maxConnectAttempts: 10 });
  try {
    const session = await conn.call(conn.client.sessions.create.mutate({}));
    const sent = await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'restored-0001', text }));
    const answer = await waitFor('the restored instance\'s answer', async () => {
      const history = await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
      const at = history.findIndex((msg) => msg.id === sent.message.id);
      const reply = at >= 0 ? history.slice(at + 1).find((msg) => msg.role === 'assistant' && (msg.status === 'done' || msg.status === 'failed')) : undefined;
      return reply ?? null;
    }, 30_000);
    expect(answer.status).toBe('done');
    return answer.text;
  } finally {
    await conn.close();
  }
}

describe(`restore into a new instance (${testEngine()})`, () => {
  it('makes a second instance of the account from the backup; the source runs on untouched; the account switches to it', async () => {
    const { m, api, token, instance } = await ownerWithInstance();
    const sourceVault = await vaultOf(m, instance.id);
    // The provider (its key sealed in the source's vault), as the settings part writes it.
    const store = openStore({ path: dbOf(m, instance.id) });
    const settings = createSettings({ store, vault: sourceVault, env: {} });
    settings.set('anthropic.baseUrl', wire.url, { apiKey: PROVIDER_KEY });
    settings.set('model', 'anthropic:claude-test-model');
    const sealedInSource = store.getSetting('setting:anthropic.apiKey') as string;
    store.close();
    const backup = await api.backups.create.mutate({ instanceId: instance.id });
    const atBackup = userData(await dumpGatewayDb(dbOf(m, instance.id)));
    await seedMessages(dbOf(m, instance.id), 5, 'after-backup');
    const sourceNow = await dumpGatewayDb(dbOf(m, instance.id));
    const sourceRow = await api.instances.mine.query();

    const made = await api.backups.restore.mutate({ instanceId: instance.id, backupId: backup.id, intoNew: true });
    expect(made).toMatchObject({ owner: 'owner@example.com', state: 'running', primary: false });
    expect(made.id).not.toBe(instance.id);
    // The new instance holds the backup's data (its secrets re-sealed: the rest equal), under a data key of its own.
    const withoutSealed = (dump: string) => dump.replace(/v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*/g, 'SEALED');
    expect(withoutSealed(userData(await dumpGatewayDb(dbOf(m, made.id))))).toBe(withoutSealed(atBackup));
    const restored = openStore({ path: dbOf(m, made.id) });
    const sealedInNew = restored.getSetting('setting:anthropic.apiKey') as string;
    restored.close();
    expect(sealedInNew).not.toBe(sealedInSource);
    expect((await vaultOf(m, made.id)).decrypt(sealedInNew, 'autoclaw-setting/v1:anthropic.apiKey')).toBe(PROVIDER_KEY);
    // The source's key does not open the new instance's vault (nor the new key the source's).
    expect(() => sourceVault.decrypt(sealedInNew, 'autoclaw-setting/v1:anthropic.apiKey')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => createVault(dataKeyOf(m, instance.id)).decrypt(sealedInNew, 'autoclaw-setting/v1:anthropic.apiKey')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => createVault(dataKeyOf(m, made.id)).decrypt(sealedInSource, 'autoclaw-setting/v1:anthropic.apiKey')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(dataKeyOf(m, made.id).equals(dataKeyOf(m, instance.id))).toBe(false);
    const transitions = (await m.manager.services.instances?.lastEvents(made.id, 50))?.filter((e) => e.kind === 'transition').map((e) => e.to);
    expect(transitions).toEqual(['provisioning', 'restoring', 'starting', 'running']);
    // Its gateway answers as itself, and through the provider with the restored key.
    const health = (await (await fetch(`${made.url as string}/healthz`)).json()) as { instanceId?: string };
    expect(health.instanceId).toBe(made.id);
    const answer = await askThroughDoor(m, token, made.id, 'hello from the restored instance');
    expect(answer.length).toBeGreaterThan(0);
    expect(wire.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);

    // The source: same process, same data (with what came after the backup), still the primary.
    expect(await dumpGatewayDb(dbOf(m, instance.id))).toBe(sourceNow);
    expect(await api.instances.mine.query()).toMatchObject({ id: instance.id, state: 'running', pid: sourceRow?.pid });
    expect((await api.instances.list.query()).map((i: Instance) => [i.id, i.primary ?? true])).toEqual([
      [instance.id, true],
      [made.id, false],
    ]);
    const audit = await m.manager.services.db.k.selectFrom('audit_log').select(['action', 'target']).where('action', 'like', 'instance.restore.into-new%').execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['instance.restore.into-new', 'instance.restore.into-new.done']);

    // The switch: the new one becomes the account's primary, the old one is deleted.
    await api.instances.setPrimary.mutate({ instanceId: made.id });
    expect(await api.instances.mine.query()).toMatchObject({ id: made.id });
    expect((await api.instances.list.query()).map((i: Instance) => [i.id, i.primary ?? true])).toEqual([
      [made.id, true],
      [instance.id, false],
    ]);
    await api.instances.delete.mutate({ instanceId: instance.id });
    await waitFor('the old instance gone', async () => ((await api.instances.list.query()).length === 1 ? true : null), 20_000);
    expect(await api.instances.mine.query()).toMatchObject({ id: made.id, state: 'running' });
    // The door lets the owner through to the new primary.
    const door = await api.instances.doorPass.mutate({ instanceId: made.id });
    expect(door.pass.length).toBeGreaterThan(10);
  }, 120_000);

  it('refuses an unknown backup, another account’s, and a flipped byte — and changes nothing', async () => {
    const { m, api, instance } = await ownerWithInstance();
    const backup = await api.backups.create.mutate({ instanceId: instance.id });
    await m.manager.services.accounts.createUser({ email: 'stranger@example.com', password: 'another horse battery' });
    const stranger = m.client((await m.client().auth.signIn.mutate({ email: 'stranger@example.com', password: 'another horse battery' })).token);
    const path = join(m.dir, 'backups', instance.id, `${backup.id}.acbk`);
    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] = (flipped[Math.floor(bytes.length / 2)] as number) ^ 0x01;

    const before = { manager: await m.dump(), dirs: readdirSync(join(m.dir, 'instances')).sort(), source: await dumpGatewayDb(dbOf(m, instance.id)) };
    const after = async () => ({ manager: await m.dump(), dirs: readdirSync(join(m.dir, 'instances')).sort(), source: await dumpGatewayDb(dbOf(m, instance.id)) });
    await expect(api.backups.restore.mutate({ instanceId: instance.id, backupId: 'bk-nope-0000', intoNew: true })).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
    await expect(stranger.backups.restore.mutate({ instanceId: instance.id, backupId: backup.id, intoNew: true })).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
    await expect(stranger.instances.setPrimary.mutate({ instanceId: instance.id })).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
    writeFileSync(path, flipped);
    await expect(api.backups.restore.mutate({ instanceId: instance.id, backupId: backup.id, intoNew: true })).rejects.toMatchObject({ data: { appCode: 'BAD_REQUEST' }, message: expect.stringContaining('integrity check') });
    expect(await after()).toEqual(before);
    expect((await api.instances.list.query()).map((i: Instance) => i.id)).toEqual([instance.id]);
  }, 120_000);
});
