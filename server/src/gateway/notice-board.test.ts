import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoticeEvent } from '@autoclaw/shared';
import { startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

describe('notices over a real tRPC WebSocket client', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  it('streams a published notice to every device, resumes after the last one seen, and shares read state', async () => {
    const phone = t.connect(t.addDevice('phone')).client;
    const laptop = t.connect(t.addDevice('laptop')).client;
    expect(await phone.notices.list.query({})).toEqual({ notices: [], unread: 0 });

    const hello = t.gateway.notices.publish({ kind: 'system', level: 'info', title: 'hello', body: '', key: 'hello' });
    const seen: Array<{ id: string; data: NoticeEvent }> = [];
    // From seq 0: the replay brings what came before; once it arrived, the stream is live.
    const sub = laptop.notices.events.subscribe({ lastEventId: '0' }, { onData: (ev) => seen.push(ev) });
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]?.data).toEqual({ type: 'notice', notice: hello });
    const first = t.gateway.notices.publish({ kind: 'budget', level: 'warning', title: 'Daily budget 80% used', body: '$0.80 of $1.00' });
    expect(t.gateway.notices.publish({ kind: 'system', level: 'info', title: 'hello', body: '', key: 'hello' })).toBeNull();
    await expect.poll(() => seen.length).toBe(2);
    expect(seen[1]).toEqual({ id: String(first?.seq), data: { type: 'notice', notice: first } });

    // Away, then back: what was published meanwhile comes first, nothing twice.
    sub.unsubscribe();
    const missed = t.gateway.notices.publish({ kind: 'channel', level: 'error', title: 'Telegram is down', body: 'reconnecting' });
    const resumed: Array<{ id: string; data: NoticeEvent }> = [];
    const sub2 = laptop.notices.events.subscribe({ lastEventId: String(first?.seq) }, { onData: (ev) => resumed.push(ev) });
    await expect.poll(() => resumed.length).toBe(1);
    expect(resumed[0]?.data).toEqual({ type: 'notice', notice: missed });

    expect((await phone.notices.list.query({})).unread).toBe(3);
    expect(seen).toHaveLength(2);
    expect(await phone.notices.markRead.mutate({ all: true })).toEqual({ unread: 0 });
    await expect.poll(() => resumed.at(-1)?.data).toEqual({ type: 'unread', unread: 0 });
    sub2.unsubscribe();
  });

  it('refuses bad input with a typed error', async () => {
    const { client } = t.connect(t.addDevice());
    await expect(client.notices.list.query({ limit: 0 })).rejects.toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
    await expect(client.notices.markRead.mutate({ ids: [] })).rejects.toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
  });
});
