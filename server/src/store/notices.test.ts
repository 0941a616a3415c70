import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NoticeSchema } from '@autoclaw/shared';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

describe('notices', () => {
  it('stores notices newest first, once per key, and counts the unread ones', () => {
    const a = t.store.addNotice({ kind: 'budget', level: 'warning', title: 'Daily budget 80% used', body: '$0.80 of $1.00', key: 'budget:soft:daily:2026-12-06' });
    expect(a && NoticeSchema.parse(a)).toEqual(a);
    expect(t.store.addNotice({ kind: 'budget', level: 'warning', title: 'again', body: '', key: 'budget:soft:daily:2026-12-06' })).toBeNull();
    t.clock.advance(1000);
    const b = t.store.addNotice({ kind: 'channel', level: 'error', title: 'Telegram is down', body: 'no answer for 90 s' });
    expect(t.store.listNotices({ limit: 10 }).map((n) => n.title)).toEqual(['Telegram is down', 'Daily budget 80% used']);
    expect(t.store.unreadNotices()).toBe(2);
    expect(t.store.noticesAfter(a?.seq ?? 0, 10).map((n) => n.id)).toEqual([b?.id]);

    expect(t.store.markNoticesRead([a?.id ?? '', 'unknown'])).toBe(1);
    expect(t.store.listNotices({ limit: 10, unreadOnly: true }).map((n) => n.id)).toEqual([b?.id]);
    expect(t.store.markNoticesRead('all')).toBe(1);
    expect(t.store.unreadNotices()).toBe(0);
    expect(t.store.listNotices({ limit: 10 })[0]?.readAt).toBe(t.clock.now());
  });

  it('refuses bad notices and changes nothing', () => {
    const before = t.store.dump();
    expect(codeOf(() => t.store.addNotice({ kind: 'nope' as 'budget', level: 'info', title: 'x', body: '' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.addNotice({ kind: 'budget', level: 'loud' as 'info', title: 'x', body: '' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.addNotice({ kind: 'budget', level: 'info', title: '', body: '' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.addNotice({ kind: 'budget', level: 'info', title: 'x'.repeat(121), body: '' }))).toBe('PAYLOAD_TOO_LARGE');
    expect(codeOf(() => t.store.noticesAfter(-1, 10))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.listNotices({ limit: 0 }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});
