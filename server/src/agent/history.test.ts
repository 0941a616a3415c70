import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Message, ToolCall } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { groupTurns, MessageMemo, messageTokens, pushTurn, turnMayContinue, UNFINISHED_TOOL_RESULT } from './history';
import type { ProviderMessage } from './providers/types';
import { TEST_KEY, defaultModel, makeProvider, openHarness, waitFor } from './test-harness';
import { defineTool } from '../skills';

let n = 0;
const msg = (role: 'user' | 'assistant', text: string, extra: Partial<Message> = {}): Message => ({
  id: `m${++n}`,
  sessionId: 's',
  seq: n,
  turnId: null,
  role,
  text,
  clientId: null,
  status: 'done',
  error: null,
  model: null,
  toolCalls: [],
  usage: null,
  createdAt: n,
  updatedAt: n,
  ...extra,
});
const call = (id: string, status: ToolCall['status'], result: string | null): ToolCall => ({
  id,
  messageId: 'x',
  name: 'current_time',
  input: '{}',
  status,
  result,
  risky: false,
  createdAt: 0,
  updatedAt: 0,
});

describe('history', () => {
  it('builds the same conversation with the memo, converting each message object once', () => {
    const window = [
      msg('user', 'what time is it?'),
      msg('assistant', 'checking', { toolCalls: [call('t1', 'done', '09:00')] }),
      msg('assistant', 'It is nine.'),
      msg('user', 'thanks'),
      msg('assistant', 'You are welcome.'),
    ];
    const plain: ProviderMessage[] = [];
    for (const turn of groupTurns(window, () => [])) pushTurn(plain, turn);
    const memo = new MessageMemo();
    const build = (messages: Message[]): ProviderMessage[] => {
      const out: ProviderMessage[] = [];
      for (const turn of groupTurns(messages, () => [], (m) => memo.tokens(m))) pushTurn(out, turn, memo);
      return out;
    };
    const first = build(window);
    const second = build(window);
    expect(first).toEqual(plain);
    expect(second).toEqual(plain);
    // The same message object: the same content array, not a new conversion.
    expect(second[0]?.content).toBe(first[0]?.content);
    expect(memo.tokens(window[1] as Message)).toBe(messageTokens(window[1] as Message));
    // A message read again (a new object, e.g. its text changed) is converted anew.
    const edited = [...window.slice(0, 4), { ...(window[4] as Message), text: 'Any time.' }];
    expect(build(edited).at(-1)?.content).toEqual([{ type: 'text', text: 'Any time.' }]);
    // Merging never writes into a shared array: the first build is unchanged.
    expect(build(window)).toEqual(plain);
  });

  it('asks for a turn only when it may continue after another user message', () => {
    expect(turnMayContinue([])).toBe(true);
    expect(turnMayContinue([msg('assistant', 'done')])).toBe(false);
    expect(turnMayContinue([msg('assistant', '', { toolCalls: [call('t', 'done', 'x')] })])).toBe(true);
    const asked: string[] = [];
    const u1 = msg('user', 'a');
    const a1 = msg('assistant', 'b');
    groupTurns([u1, a1, msg('user', 'c'), msg('assistant', 'd')], (id) => {
      asked.push(id);
      return [];
    });
    expect(asked).toEqual([]);
  });

  it('keeps assistant messages before the window as a turn of their own, and results for unfinished calls', () => {
    const orphan = msg('assistant', 'tail of an old answer');
    const u = msg('user', 'q');
    const a = msg('assistant', '', { toolCalls: [call('t1', 'error', null), call('t2', 'done', 'ok')] });
    const turns = groupTurns([orphan, u, a], () => [a.id]);
    expect(turns.map((t) => t.user?.id ?? null)).toEqual([null, u.id]);
    const out: ProviderMessage[] = [];
    for (const t of turns) pushTurn(out, t);
    expect(out.map((m) => m.role)).toEqual(['assistant', 'user', 'assistant', 'user']);
    expect(out[3]!.content).toEqual([
      { type: 'tool_result', toolUseId: 't1', content: UNFINISHED_TOOL_RESULT, isError: true },
      { type: 'tool_result', toolUseId: 't2', content: 'ok', isError: false },
    ]);
  });
});

describe('a message sent during a tool round', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is answered after the round, and later context keeps each turn together', async () => {
    const server = await startAnthropicWireServer({ apiKey: TEST_KEY });
    cleanups.push(() => server.close());
    const provider = makeProvider('anthropic', server.url);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const hold = defineTool({
      name: 'hold',
      description: 'waits until the test lets it go',
      risky: false,
      input: z.object({}),
      async run() {
        await gate;
        return 'released';
      },
    });
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }), extraTools: [hold] });
    cleanups.push(() => h.close());

    h.send('first /tool hold {}');
    await waitFor(() => h.service.history(h.session.id)[1]?.toolCalls[0]?.status === 'running', 10_000, 'tool running');
    h.send('second while busy');
    release();
    await h.service.idle();
    h.send('third');
    await h.service.idle();

    // In the store the second message sits between the first turn's messages…
    expect(h.service.history(h.session.id).map((m) => m.text)).toEqual([
      'first /tool hold {}',
      '',
      'second while busy',
      'Tool hold returned: released',
      'Echo: second while busy',
      'third',
      'Echo: third',
    ]);
    // …but the model sees each turn whole, in order.
    const body = server.requests.at(-1)!.body as { messages: Array<{ role: string; content: Array<{ type: string; text?: string }> }> };
    const flat = body.messages.map((m) => `${m.role}:${m.content.map((c) => c.text ?? c.type).join('+')}`);
    expect(flat).toEqual([
      'user:first /tool hold {}',
      'assistant:tool_use',
      'user:tool_result',
      'assistant:Tool hold returned: released',
      'user:second while busy',
      'assistant:Echo: second while busy',
      'user:third',
    ]);
  });
});
