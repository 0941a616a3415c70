/**
 * The tool catalog: every tool the model may call right now (the core
 * skill's, then the enabled skills'), and the one place a call runs. Each
 * call has a time limit and follows the turn's abort: when either ends it,
 * the call is answered at once (the tool's own signal aborts, and a skill's
 * process is stopped by its runtime) even if the tool never settles.
 */
import type { ApprovalScope, ToolSpec } from '@autoclaw/shared';
import type { ApprovalPolicy, SkillTool, ToolCatalog, ToolCallContext, ToolOutcome } from './types';

/** Result of a call the user's stop (or a shutdown) cut short. */
export const STOPPED_RESULT = 'Stopped before it finished: the turn was stopped.';

export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

export interface ToolCatalogOptions {
  /** Standing approvals; without them every risky call asks. */
  approvals?: ApprovalPolicy;
}

export class SkillToolCatalog implements ToolCatalog {
  readonly #approvals: ApprovalPolicy | undefined;
  #tools = new Map<string, SkillTool>();
  #specs: ToolSpec[] = [];
  #instructions = '';
  #load: (() => void) | null = null;

  constructor(tools: readonly SkillTool[], opts: ToolCatalogOptions = {}) {
    this.#approvals = opts.approvals;
    this.replace(tools, '');
  }

  /** Runs `load` (which calls replace) before the catalog is first used: skills are verified on first need, not at boot. */
  loadOnFirstUse(load: () => void): void {
    this.#load = load;
  }

  #ready(): void {
    const load = this.#load;
    if (!load) return;
    this.#load = null;
    load();
  }

  /** Swaps the set of tools (a skill was enabled or disabled); names must be unique. */
  replace(tools: readonly SkillTool[], instructions: string): void {
    const next = new Map<string, SkillTool>();
    for (const tool of tools) {
      // The first wins: a skill can never shadow a core tool (names are checked at load too).
      if (!next.has(tool.spec.name)) next.set(tool.spec.name, tool);
    }
    this.#tools = next;
    this.#specs = [...next.values()].map((t) => t.spec);
    this.#instructions = instructions;
  }

  specs(): ToolSpec[] {
    this.#ready();
    return this.#specs;
  }

  names(): string[] {
    this.#ready();
    return [...this.#tools.keys()];
  }

  get(name: string): SkillTool | undefined {
    this.#ready();
    return this.#tools.get(name);
  }

  isRisky(name: string): boolean {
    this.#ready();
    return this.#tools.get(name)?.risky ?? false;
  }

  needsApproval(name: string, sessionId: string): boolean {
    this.#ready();
    const tool = this.#tools.get(name);
    if (!tool?.risky) return false;
    if (tool.everyCall) return true;
    return !(this.#approvals?.covers(name, sessionId) ?? false);
  }

  grant(name: string, scope: ApprovalScope, sessionId: string): void {
    this.#ready();
    const tool = this.#tools.get(name);
    if (scope === 'once' || !tool?.risky || tool.everyCall || !this.#approvals) return;
    this.#approvals.grant(name, scope, sessionId);
  }

  instructions(): string {
    this.#ready();
    return this.#instructions;
  }

  run(name: string, input: unknown, ctx: ToolCallContext): Promise<ToolOutcome> {
    this.#ready();
    const tool = this.#tools.get(name);
    if (!tool) return Promise.resolve({ ok: false, content: `Unknown tool "${name}". Available tools: ${this.names().join(', ')}` });
    if (ctx.signal.aborted) return Promise.resolve({ ok: false, content: STOPPED_RESULT });
    return runLimited(tool, input, ctx);
  }
}

function runLimited(tool: SkillTool, input: unknown, ctx: ToolCallContext): Promise<ToolOutcome> {
  const controller = new AbortController();
  return new Promise<ToolOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: ToolOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => {
      controller.abort(ctx.signal.reason);
      finish({ ok: false, content: STOPPED_RESULT });
    };
    const timer = setTimeout(() => {
      controller.abort('timeout');
      finish({ ok: false, content: `${tool.spec.name} did not finish within ${formatSeconds(tool.timeoutMs)} and was stopped.` });
    }, tool.timeoutMs);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    tool.run(input, { ...ctx, signal: controller.signal }).then(finish, (err: unknown) => {
      finish({ ok: false, content: `${tool.spec.name} failed: ${err instanceof Error ? err.message : 'unknown error'}` });
    });
  });
}

function formatSeconds(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
