import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { createGroupCommit } from './group-commit';
import { tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

describe('group commit', () => {
  it('acknowledges concurrent senders after one shared commit each', async () => {
    const s = t.store.ensureSession('main');
    const writer = createGroupCommit(t.store);
    const other = t.reopen();
    const senders = Array.from({ length: 8 }, async (_, k) => {
      const acked: string[] = [];
      for (let i = 0; i < 25; i++) {
        const { message, duplicate } = await writer.insertUserMessage({ sessionId: s.id, clientId: `sender-${k}-${i}`, text: `m ${k} ${i}` });
        expect(duplicate).toBe(false);
        // Acknowledged means committed: another connection already sees it.
        expect(other.getMessage(message.id)?.text).toBe(`m ${k} ${i}`);
        acked.push(message.id);
      }
      return acked;
    });
    const acked = (await Promise.all(senders)).flat();
    expect(new Set(acked).size).toBe(200);
    expect(t.store.listMessages(s.id)).toHaveLength(200);
    writer.close();
  });

  it('rejects only the refused message of a batch, and dedupes retries', async () => {
    const s = t.store.ensureSession('main');
    const writer = createGroupCommit(t.store);
    const results = await Promise.allSettled([
      writer.insertUserMessage({ sessionId: s.id, clientId: 'client-g-1', text: 'a' }),
      writer.insertUserMessage({ sessionId: 'nope', clientId: 'client-g-2', text: 'b' }),
      writer.insertUserMessage({ sessionId: s.id, clientId: 'client-g-1', text: 'a again' }),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { duplicate: false } });
    expect(results[1].status).toBe('rejected');
    expect(AppError.is((results[1] as PromiseRejectedResult).reason, 'NOT_FOUND')).toBe(true);
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { duplicate: true, message: { text: 'a' } } });
    writer.close();
    await expect(writer.insertUserMessage({ sessionId: s.id, clientId: 'client-g-3', text: 'late' })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });

  it('flushes pending messages on close', async () => {
    const s = t.store.ensureSession('main');
    const writer = createGroupCommit(t.store);
    const pending = writer.insertUserMessage({ sessionId: s.id, clientId: 'client-g-9', text: 'x' });
    writer.close();
    expect(t.store.listMessages(s.id)).toHaveLength(1);
    await expect(pending).resolves.toMatchObject({ duplicate: false });
  });
});
