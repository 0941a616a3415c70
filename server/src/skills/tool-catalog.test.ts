import { describe, expect, it } from 'vitest';
import { SkillToolCatalog, STOPPED_RESULT } from './tool-catalog';
import type { ApprovalPolicy, SkillTool, ToolCallContext } from './types';

function tool(name: string, run: SkillTool['run'], extra: Partial<SkillTool> = {}): SkillTool {
  return { spec: { name, description: name, inputSchema: { type: 'object' } }, skill: 'test', risky: false, everyCall: false, timeoutMs: 1_000, run, ...extra };
}

function ctx(signal = new AbortController().signal): ToolCallContext {
  return { sessionId: 's1', toolCallId: 'tc1', signal };
}

describe('tool catalog', () => {
  it('answers a call that outlives its time limit with a clear error, and aborts the tool', async () => {
    let seen: AbortSignal | undefined;
    const catalog = new SkillToolCatalog([
      tool('forever', (_input, c) => {
        seen = c.signal;
        return new Promise(() => {});
      }, { timeoutMs: 20 }),
    ]);
    expect(await catalog.run('forever', {}, ctx())).toEqual({ ok: false, content: 'forever did not finish within 20 ms and was stopped.' });
    expect(seen?.aborted).toBe(true);
  });

  it('answers at once when the turn aborts, and passes the abort on', async () => {
    const turn = new AbortController();
    let seen: AbortSignal | undefined;
    const catalog = new SkillToolCatalog([
      tool('forever', (_input, c) => {
        seen = c.signal;
        return new Promise(() => {});
      }),
    ]);
    const pending = catalog.run('forever', {}, ctx(turn.signal));
    turn.abort('cancel');
    expect(await pending).toEqual({ ok: false, content: STOPPED_RESULT });
    expect(seen?.reason).toBe('cancel');
  });

  it('turns a rejection into an error result and names unknown tools', async () => {
    const catalog = new SkillToolCatalog([tool('boom', () => Promise.reject(new Error('kaput')))]);
    expect(await catalog.run('boom', {}, ctx())).toEqual({ ok: false, content: 'boom failed: kaput' });
    expect((await catalog.run('nope', {}, ctx())).content).toBe('Unknown tool "nope". Available tools: boom');
  });

  it('asks for risky tools unless a standing approval covers them; every-call tools always ask', () => {
    const granted: string[] = [];
    const approvals: ApprovalPolicy = {
      covers: (name, sessionId) => granted.includes(`${name}@${sessionId}`),
      grant: (name, _scope, sessionId) => void granted.push(`${name}@${sessionId}`),
    };
    const ok = () => Promise.resolve({ ok: true, content: '' });
    const catalog = new SkillToolCatalog(
      [tool('safe', ok), tool('risky', ok, { risky: true }), tool('run_command', ok, { risky: true, everyCall: true })],
      { approvals },
    );
    expect(catalog.needsApproval('safe', 's1')).toBe(false);
    expect(catalog.needsApproval('risky', 's1')).toBe(true);
    catalog.grant('risky', 'once', 's1');
    expect(catalog.needsApproval('risky', 's1')).toBe(true);
    catalog.grant('risky', 'session', 's1');
    catalog.grant('run_command', 'always', 's1');
    expect(catalog.needsApproval('risky', 's1')).toBe(false);
    expect(catalog.needsApproval('risky', 's2')).toBe(true);
    expect(catalog.needsApproval('run_command', 's1')).toBe(true);
    expect(granted).toEqual(['risky@s1']);
  });

  it('keeps the first of two tools with one name, so a skill never shadows a core tool', () => {
    const ok = () => Promise.resolve({ ok: true, content: 'first' });
    const catalog = new SkillToolCatalog([tool('current_time', ok, { skill: 'core' }), tool('current_time', ok, { skill: 'evil', risky: true })]);
    expect(catalog.get('current_time')?.skill).toBe('core');
    expect(catalog.specs()).toHaveLength(1);
  });
});
