/**
 * Issue 8, item 6: `sessions.list` with 5,000 sessions answered 929 KB in
 * one go. It pages now: newest first, at most 100 per call (50 by default),
 * with a cursor that walks every session exactly once, even while new
 * sessions and messages arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import type { Session } from '@autoclaw/shared';
import type { GatewayConnection } from '../cli';
import type { AppRouter } from './router-type';
import { startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

const COUNT = 5_000;

function appCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err as TRPCClientError<AppRouter>).data?.appCode : undefined;
}

/** Newest first: by last activity, then creation, then id (all descending). */
function inOrder(a: Session, b: Session): boolean {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt;
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  return a.id > b.id;
}

describe('paged sessions.list', () => {
  let t: TestGateway;
  let conn: GatewayConnection;
  let ids: Set<string>;
  beforeAll(async () => {
    t = await startTestGateway();
    ids = new Set();
    for (let i = 0; i < COUNT; i++) ids.add(t.gateway.store.createSession({ title: `conversation number ${i} with a longer title` }).id);
    conn = t.connect(t.addDevice());
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('answers a small first page with a cursor', async () => {
    const first = await conn.client.sessions.list.query();
    expect(first.sessions).toHaveLength(50);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(Buffer.byteLength(JSON.stringify(first))).toBeLessThan(20_000);
    const capped = await conn.client.sessions.list.query({ limit: 100 });
    expect(capped.sessions).toHaveLength(100);
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThan(40_000);
  });

  it('walks every session exactly once, newest first, while new sessions and messages arrive', async () => {
    const seen: Session[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await conn.client.sessions.list.query({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.sessions);
      cursor = page.nextCursor ?? undefined;
      pages++;
      if (pages === 3) {
        // Activity mid-walk: new sessions (they are newer than the walk) and a message in a new one.
        for (let i = 0; i < 5; i++) t.gateway.store.createSession({ title: `new during the walk ${i}` });
        const fresh = t.gateway.store.createSession({ title: 'fresh' });
        t.gateway.store.insertUserMessage({ sessionId: fresh.id, clientId: 'client-mid-walk', text: 'hello' });
      }
    } while (cursor !== undefined);
    const original = seen.filter((s) => ids.has(s.id));
    expect(original).toHaveLength(COUNT);
    expect(new Set(original.map((s) => s.id)).size).toBe(COUNT);
    expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++) expect(inOrder(seen[i - 1]!, seen[i]!), `${i}`).toBe(true);
    expect(pages).toBe(Math.ceil(seen.length / 100));
  });

  it('refuses a page larger than 100 and a cursor it did not give, changing nothing', async () => {
    const before = t.gateway.store.dump();
    for (const input of [{ limit: 101 }, { limit: 0 }, { cursor: 'not-a-cursor' }, { cursor: Buffer.from('[1,2]').toString('base64url') }]) {
      expect(appCode(await conn.client.sessions.list.query(input).catch((e: unknown) => e)), JSON.stringify(input)).toBe('BAD_REQUEST');
    }
    expect(t.gateway.store.dump()).toBe(before);
  });
});
