import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_TOOL_RESULT } from './recovery';
import { tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

describe('recover', () => {
  it('interrupts what was running and returns the queue oldest first', () => {
    const a = t.store.ensureSession('a');
    const b = t.store.ensureSession('b');
    const send = (sessionId: string, clientId: string) => t.store.insertUserMessage({ sessionId, clientId, text: clientId }).message;

    const running = send(a.id, 'client-running');
    const queuedA = send(a.id, 'client-queued-a');
    const queuedB = send(b.id, 'client-queued-b');
    const done = send(b.id, 'client-done');
    const queuedA2 = send(a.id, 'client-queued-a2');
    t.store.setMessageStatus(running.id, 'running');
    t.store.setMessageStatus(done.id, 'done');

    const streaming = t.store.createAssistantMessage({ sessionId: a.id, turnId: running.id, model: 'm' });
    t.store.setMessageText(streaming.id, 'half an ans');
    const finished = t.store.createAssistantMessage({ sessionId: b.id, turnId: done.id, model: 'm' });
    t.store.setMessageStatus(finished.id, 'done');
    t.store.insertToolCalls(streaming.id, [
      { id: 'call_pending', name: 't', input: '{}', risky: false, status: 'pending' },
      { id: 'call_running', name: 't', input: '{}', risky: false, status: 'running' },
      { id: 'call_approval', name: 'w', input: '{}', risky: true, status: 'awaiting_approval' },
      { id: 'call_done', name: 't', input: '{}', risky: false, status: 'done' },
      { id: 'call_denied', name: 'w', input: '{}', risky: true, status: 'denied' },
    ]);
    t.store.updateToolCall('call_done', { status: 'done', result: 'ok' });

    t.clock.advance(1000);
    const restarted = t.reopen();
    const report = restarted.recover();
    expect(report.interruptedTurns).toBe(1);
    expect(report.interruptedMessages).toBe(1);
    expect(report.interruptedToolCalls).toBe(3);
    expect(report.queued.map((m) => m.id)).toEqual([queuedA.id, queuedB.id, queuedA2.id]);

    expect(restarted.getMessage(running.id)?.status).toBe('interrupted');
    expect(restarted.getMessage(streaming.id)).toMatchObject({ status: 'interrupted', text: 'half an ans', updatedAt: t.clock.now() });
    expect(restarted.getMessage(finished.id)?.status).toBe('done');
    expect(restarted.getMessage(done.id)?.status).toBe('done');
    for (const id of ['call_pending', 'call_running', 'call_approval']) {
      expect(restarted.getToolCall(id)).toMatchObject({ status: 'error', result: INTERRUPTED_TOOL_RESULT });
    }
    expect(restarted.getToolCall('call_done')).toMatchObject({ status: 'done', result: 'ok' });
    expect(restarted.getToolCall('call_denied')?.status).toBe('denied');
    expect(restarted.getSession(a.id)?.busy).toBe(true);

    // Recovering again finds nothing new to repair.
    const again = restarted.recover();
    expect(again).toMatchObject({ interruptedTurns: 0, interruptedMessages: 0, interruptedToolCalls: 0 });
    expect(again.queued).toHaveLength(3);
  });

  it('is a no-op on a clean store', () => {
    expect(t.store.recover()).toEqual({ interruptedTurns: 0, interruptedMessages: 0, interruptedToolCalls: 0, queued: [], releasedReservations: 0 });
  });
});
