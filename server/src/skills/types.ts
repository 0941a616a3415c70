/**
 * The one kind of tool the agent knows. Built-in tools (the core skill, in
 * the gateway's process) and skill tools (in a child process per skill)
 * both arrive as `SkillTool`s in the tool catalog, which gives every call a
 * time limit and an abort.
 */
import type { ApprovalScope, ToolSpec } from '@autoclaw/shared';

export interface ToolOutcome {
  ok: boolean;
  /** Text handed back to the model (and stored as the tool call's result). */
  content: string;
}

/** What every tool call gets: who asked, and a signal that aborts on cancel, shutdown or time-out. */
export interface ToolCallContext {
  sessionId: string;
  toolCallId: string;
  signal: AbortSignal;
}

export interface SkillTool {
  readonly spec: ToolSpec;
  /** The skill it belongs to (`core` for the built-in tools). */
  readonly skill: string;
  /** Risky tools wait for the user's approval before they run. */
  readonly risky: boolean;
  /** Risky, and no standing approval covers it: asks every time. */
  readonly everyCall: boolean;
  /** Longest a call may take; the catalog stops waiting after it. */
  readonly timeoutMs: number;
  run(input: unknown, ctx: ToolCallContext): Promise<ToolOutcome>;
}

/** Standing approvals (this conversation, always for this tool), kept in the store. */
export interface ApprovalPolicy {
  covers(tool: string, sessionId: string): boolean;
  grant(tool: string, scope: Exclude<ApprovalScope, 'once'>, sessionId: string): void;
}

/** The seam between the agent and every tool. */
export interface ToolCatalog {
  /** Specs for the provider request; the same array until the set of tools changes. */
  specs(): ToolSpec[];
  isRisky(name: string): boolean;
  /** Risky and not covered by a standing approval for this session. */
  needsApproval(name: string, sessionId: string): boolean;
  /** Records a standing approval of `name` (after the user said yes with that scope). */
  grant(name: string, scope: ApprovalScope, sessionId: string): void;
  /** Instructions of the enabled skills for the system prompt (empty when none). */
  instructions(): string;
  /** Runs a call; never throws: errors, time-outs and aborts become an error outcome. */
  run(name: string, input: unknown, ctx: ToolCallContext): Promise<ToolOutcome>;
}

/** The gateway's logger as skills use it (message first, then fields; secrets never passed). */
export interface SkillLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const SILENT_SKILL_LOGGER: SkillLogger = { info() {}, warn() {}, error() {} };
