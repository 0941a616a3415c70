import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { startOpenAIWireServer } from '../testing/openai-wire-server';
import type { ChatServiceDeps } from './chat-service';
import { TEST_KEY, defaultModel, makeProvider, openHarness, waitFor, type ProviderKind } from './test-harness';
import { defineTool } from '../skills';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(kind: ProviderKind, harnessOpts: Partial<ChatServiceDeps> = {}) {
  const server = kind === 'anthropic' ? await startAnthropicWireServer({ apiKey: TEST_KEY }) : await startOpenAIWireServer({ apiKey: TEST_KEY });
  cleanups.push(() => server.close());
  const provider = makeProvider(kind, server.url);
  const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel(kind) }), ...harnessOpts });
  cleanups.push(() => h.close());
  return { server, h };
}

describe('tool loop', () => {
  it('runs the calls of one round in parallel', async () => {
    let running = 0;
    let most = 0;
    const slow = (name: string) =>
      defineTool({
        name,
        description: 'waits a little',
        risky: false,
        input: z.object({ ms: z.number().int().max(1000) }),
        async run({ ms }) {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, ms));
          running -= 1;
          return `${name} waited ${ms}`;
        },
      });
    const { h, server } = await setup('openai', { extraTools: [slow('wait_a'), slow('wait_b'), slow('wait_c')] });
    server.enqueue({
      kind: 'tool_use',
      calls: [
        { name: 'wait_a', input: { ms: 60 } },
        { name: 'wait_b', input: { ms: 60 } },
        { name: 'wait_c', input: { ms: 60 } },
      ],
    });
    h.send('wait for me three times');
    await h.service.idle();
    expect(most).toBe(3);
    const [, round, final] = h.service.history(h.session.id);
    expect(round!.toolCalls.map((c) => c.result)).toEqual(['wait_a waited 60', 'wait_b waited 60', 'wait_c waited 60']);
    expect(final!.text).toContain('Tool wait_c returned: wait_c waited 60');
    // The second request carried one result per call.
    const body = server.requests[1]!.body as { messages: Array<{ role: string; tool_call_id?: string }> };
    expect(body.messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(round!.toolCalls.map((c) => c.id));
  });

  it('gives the model an error result for bad input or an unknown tool, and goes on', async () => {
    const { h, server } = await setup('anthropic');
    server.enqueue({
      kind: 'tool_use',
      calls: [
        { name: 'memory_save', input: { text: 42 } },
        { name: 'no_such_tool', input: {} },
      ],
    });
    h.send('do odd things');
    await h.service.idle();
    const [user, round, final] = h.service.history(h.session.id);
    expect(user!.status).toBe('done');
    expect(round!.toolCalls.map((c) => c.status)).toEqual(['error', 'error']);
    expect(round!.toolCalls[0]!.result).toMatch(/^Invalid input for memory_save: text:/);
    expect(round!.toolCalls[1]!.result).toMatch(/^Unknown tool "no_such_tool"/);
    expect(final!.status).toBe('done');
  });

  it('stops at the round limit with a clear note', async () => {
    const { h, server } = await setup('anthropic', { maxToolIterations: 2 });
    for (let i = 0; i < 3; i++) server.enqueue({ kind: 'tool_use', calls: [{ name: 'current_time', input: {} }] });
    const user = h.send('loop forever');
    await h.service.idle();
    expect(server.requests).toHaveLength(2);
    const history = h.service.history(h.session.id);
    expect(history.map((m) => [m.role, m.toolCalls.length])).toEqual([
      ['user', 0],
      ['assistant', 1],
      ['assistant', 1],
      ['assistant', 0],
    ]);
    expect(history[3]!.text).toMatch(/stopped after 2 rounds of tool calls/);
    expect(h.store.getMessage(user.id)?.status).toBe('done');
    // The next turn's context pairs every tool use with its result.
    server.enqueue({ kind: 'text', text: 'ok' });
    h.send('continue');
    await h.service.idle();
    const body = server.requests[2]!.body as { messages: Array<{ role: string; content: Array<{ type: string }> }> };
    const uses = body.messages.flatMap((m) => m.content.filter((c) => c.type === 'tool_use'));
    const results = body.messages.flatMap((m) => m.content.filter((c) => c.type === 'tool_result'));
    expect(uses).toHaveLength(2);
    expect(results).toHaveLength(2);
  });
});

describe('risky tools', () => {
  it('waits for approval; approved, the file is written', async () => {
    const { h } = await setup('anthropic');
    const rec = h.record();
    h.send('/tool workspace_write_file {"path":"notes/todo.md","content":"buy milk"}');
    const waiting = await waitFor(
      () => h.service.history(h.session.id)[1]?.toolCalls.find((c) => c.status === 'awaiting_approval'),
      3000,
      'approval prompt',
    );
    expect(waiting.risky).toBe(true);
    expect(rec.events.some((e) => e.event.type === 'tool' && e.event.toolCall.status === 'awaiting_approval')).toBe(true);
    expect(() => readFileSync(join(h.workspaceDir, 'notes/todo.md'))).toThrow();
    h.service.approve(waiting.id, true);
    await h.service.idle();
    expect(readFileSync(join(h.workspaceDir, 'notes/todo.md'), 'utf8')).toBe('buy milk');
    const [, round, final] = h.service.history(h.session.id);
    expect(round!.toolCalls[0]).toMatchObject({ status: 'done', result: 'Wrote 8 bytes to notes/todo.md' });
    expect(final!.text).toBe('Tool workspace_write_file returned: Wrote 8 bytes to notes/todo.md');
    expect(() => h.service.approve(waiting.id, true)).toThrow(/not waiting for approval/);
  });

  it('denied, the tool does not run and the model is told', async () => {
    const { h } = await setup('openai');
    h.send('/tool workspace_write_file {"path":"x.txt","content":"no"}');
    const waiting = await waitFor(
      () => h.service.history(h.session.id)[1]?.toolCalls.find((c) => c.status === 'awaiting_approval'),
      3000,
      'approval prompt',
    );
    h.service.approve(waiting.id, false);
    await h.service.idle();
    expect(() => readFileSync(join(h.workspaceDir, 'x.txt'))).toThrow();
    const [user, round, final] = h.service.history(h.session.id);
    expect(round!.toolCalls[0]!.status).toBe('denied');
    expect(final!.text).toMatch(/^Tool workspace_write_file returned: (Error: )?The user denied this tool call/);
    expect(user!.status).toBe('done');
  });

  it('refuses a path that leaves the workspace even after approval', async () => {
    const { h } = await setup('anthropic');
    h.send('/tool workspace_write_file {"path":"../escape.txt","content":"x"}');
    const waiting = await waitFor(
      () => h.service.history(h.session.id)[1]?.toolCalls.find((c) => c.status === 'awaiting_approval'),
      3000,
      'approval prompt',
    );
    h.service.approve(waiting.id, true);
    await h.service.idle();
    const round = h.service.history(h.session.id)[1]!;
    expect(round.toolCalls[0]).toMatchObject({ status: 'error' });
    expect(round.toolCalls[0]!.result).toMatch(/must not contain "\.\."/);
    expect(() => readFileSync(join(h.dir, 'escape.txt'))).toThrow();
  });

  it('cancelling while a call waits for approval denies it and ends the turn', async () => {
    const { h } = await setup('anthropic');
    const user = h.send('/tool workspace_read_file {"path":"a.txt"}');
    await waitFor(() => h.service.history(h.session.id)[1]?.toolCalls.some((c) => c.status === 'awaiting_approval'), 3000, 'prompt');
    expect(h.service.stats().pendingApprovals).toBe(1);
    expect(h.service.cancel(h.session.id)).toBe(true);
    await h.service.idle();
    expect(h.store.getMessage(user.id)?.status).toBe('cancelled');
    expect(h.service.history(h.session.id)[1]!.toolCalls[0]!.status).toBe('denied');
    expect(h.service.stats().pendingApprovals).toBe(0);
  });
});

describe('a tool that never returns', () => {
  const stuck = defineTool({
    name: 'stuck',
    description: 'never finishes and ignores its abort signal',
    risky: false,
    input: z.object({}),
    run: () => new Promise<string>(() => {}),
  });

  it('cancel frees the session at once: the call ends as cancelled, the turn as cancelled', async () => {
    const { h } = await setup('anthropic', { extraTools: [stuck] });
    const user = h.send('/tool stuck {}');
    await waitFor(() => h.service.history(h.session.id)[1]?.toolCalls[0]?.status === 'running', 3000, 'tool running');
    expect(h.service.cancel(h.session.id)).toBe(true);
    await h.service.idle();
    expect(h.store.getMessage(user.id)?.status).toBe('cancelled');
    expect(h.service.history(h.session.id)[1]!.toolCalls[0]).toMatchObject({ status: 'error', result: 'Stopped before it finished: the turn was stopped.' });
    expect(h.service.listSessions()[0]!.busy).toBe(false);
    // The session takes the next message.
    const next = h.send('hello again');
    await h.service.idle();
    expect(h.store.getMessage(next.id)?.status).toBe('done');
    expect(h.service.history(h.session.id).at(-1)).toMatchObject({ role: 'assistant', status: 'done' });
  });

  it('stop() ends while the call hangs, leaving the turn interrupted', async () => {
    const { h } = await setup('openai', { extraTools: [stuck] });
    const user = h.send('/tool stuck {}');
    await waitFor(() => h.service.history(h.session.id)[1]?.toolCalls[0]?.status === 'running', 3000, 'tool running');
    await h.service.stop();
    expect(h.store.getMessage(user.id)?.status).toBe('interrupted');
  });
});
