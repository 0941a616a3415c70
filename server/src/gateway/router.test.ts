import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import type { ChatEvent, Message } from '@autoclaw/shared';
import type { AppRouter } from './router-type';
import { startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

function appCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err as TRPCClientError<AppRouter>).data?.appCode : undefined;
}

describe('the router over a real tRPC WebSocket client', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers health and whoami', async () => {
    const key = t.addDevice('phone');
    const { client } = t.connect(key);
    expect(await client.health.query()).toEqual({ ok: true, version: expect.any(String) });
    expect(await client.auth.whoami.query()).toEqual({ deviceId: key.deviceId, name: 'phone', kind: 'client', role: 'owner' });
  });

  it('runs a chat turn: ensure a session, subscribe, send, stream, history', async () => {
    const { client } = t.connect(t.addDevice());
    const session = await client.sessions.ensure.mutate({ name: 'main' });
    expect(await client.sessions.ensure.mutate({ name: 'main' })).toMatchObject({ id: session.id });
    const events: Array<{ id: string; data: ChatEvent }> = [];
    let turnDone: (m: Message) => void = () => {};
    const done = new Promise<Message>((resolve) => {
      turnDone = resolve;
    });
    let userId: string | null = null;
    const sub = client.chat.events.subscribe(
      { sessionId: session.id },
      {
        onData(ev) {
          events.push(ev);
          if (ev.data.type === 'message' && ev.data.message.id === userId && ev.data.message.status === 'done') turnDone(ev.data.message);
        },
      },
    );
    await expect.poll(() => events.length).toBeGreaterThan(0);
    expect(events[0]?.data.type).toBe('sync');
    const sent = await client.chat.send.mutate({ sessionId: session.id, clientId: 'client-id-0001', text: 'hello there' });
    userId = sent.message.id;
    expect(sent.duplicate).toBe(false);
    expect(sent.message).toMatchObject({ role: 'user', text: 'hello there' });
    const again = await client.chat.send.mutate({ sessionId: session.id, clientId: 'client-id-0001', text: 'hello there' });
    expect(again).toMatchObject({ duplicate: true, message: { id: sent.message.id } });
    await done;
    sub.unsubscribe();
    const deltas = events.filter((e) => e.data.type === 'delta');
    expect(deltas.length).toBeGreaterThan(0);
    expect(events.every((e) => typeof e.id === 'string')).toBe(true);
    const history = await client.chat.history.query({ sessionId: session.id });
    expect(history.map((m) => [m.role, m.text, m.status])).toEqual([
      ['user', 'hello there', 'done'],
      ['assistant', 'Echo: hello there', 'done'],
    ]);
    expect((await client.usage.summary.query()).calls).toBeGreaterThan(0);

    // Resuming from a tracked id replays what came after it, without a fresh sync.
    const middle = events[Math.floor(events.length / 2)]!;
    const resumed: Array<{ id: string; data: ChatEvent }> = [];
    const resub = client.chat.events.subscribe({ sessionId: session.id, lastEventId: middle.id }, { onData: (ev) => resumed.push(ev) });
    const expectedIds = events.slice(events.indexOf(middle) + 1).map((e) => e.id);
    await expect.poll(() => resumed.length).toBeGreaterThanOrEqual(expectedIds.length);
    resub.unsubscribe();
    expect(resumed.map((e) => e.id).slice(0, expectedIds.length)).toEqual(expectedIds);
    expect(resumed.some((e) => e.data.type === 'sync')).toBe(false);
    expect(await client.chat.cancel.mutate({ sessionId: session.id })).toEqual({ cancelled: false });
  });

  it('manages sessions, memory and settings', async () => {
    const { client } = t.connect(t.addDevice());
    const created = await client.sessions.create.mutate({ title: 'Plans' });
    expect((await client.sessions.list.query()).sessions.some((s) => s.id === created.id)).toBe(true);
    expect(await client.sessions.rename.mutate({ sessionId: created.id, title: 'Holiday plans' })).toMatchObject({ title: 'Holiday plans' });
    expect(await client.sessions.delete.mutate({ sessionId: created.id })).toEqual({ ok: true });
    expect((await client.sessions.list.query()).sessions.some((s) => s.id === created.id)).toBe(false);

    expect(await client.memory.search.query({ query: 'nothing here' })).toEqual([]);
    const view = await client.settings.set.mutate({ key: 'openai.apiKey', value: 'sk-secret-value' });
    expect(view.values['openai.apiKey']).toEqual({ source: 'stored', value: null });
    expect(JSON.stringify(await client.settings.get.query())).not.toContain('sk-secret-value');
    expect(t.gateway.store.dump()).not.toContain('sk-secret-value');
    // The environment (given at start) wins over what the UI stores.
    await client.settings.set.mutate({ key: 'anthropic.apiKey', value: 'stored-anthropic' });
    expect((await client.settings.get.query()).values['anthropic.apiKey']).toEqual({ source: 'env', value: null });
    await expect(client.settings.set.mutate({ key: 'model', value: 'no-provider' })).rejects.toSatisfy((e) => appCode(e) === 'BAD_REQUEST');
  });

  it('lists devices with the current one marked and refuses to revoke the operator', async () => {
    const key = t.addDevice('tablet');
    const { client } = t.connect(key);
    const devices = await client.devices.list.query();
    expect(devices.find((d) => d.id === key.deviceId)).toMatchObject({ current: true, kind: 'client', name: 'tablet' });
    expect(devices.filter((d) => d.current)).toHaveLength(1);
    const operator = devices.find((d) => d.kind === 'operator');
    expect(operator).toBeDefined();
    await expect(client.devices.revoke.mutate({ deviceId: operator!.id })).rejects.toSatisfy((e) => appCode(e) === 'FORBIDDEN');
    await expect(client.devices.revoke.mutate({ deviceId: 'no-such-device' })).rejects.toSatisfy((e) => appCode(e) === 'NOT_FOUND');
  });

  it('reports typed errors: unknown ids, bad input', async () => {
    const { client } = t.connect(t.addDevice());
    await expect(client.chat.history.query({ sessionId: 'nope' })).rejects.toSatisfy((e) => appCode(e) === 'NOT_FOUND');
    await expect(client.chat.retry.mutate({ messageId: 'nope' })).rejects.toSatisfy((e) => appCode(e) === 'NOT_FOUND');
    const err = await client.chat.send.mutate({ sessionId: 'x', clientId: 'short', text: '' }).catch((e: unknown) => e);
    expect(appCode(err)).toBe('BAD_REQUEST');
    expect((err as Error).message).toMatch(/clientId|text/);
  });
});
