/**
 * In-process tools (the core skill, and tools tests add): a zod schema that
 * validates the model's input before the tool runs and gives the provider its
 * JSON Schema. A bad input or a throwing tool becomes an error result for the
 * model, never a crash.
 */
import { z } from 'zod';
import { AppError } from '@autoclaw/shared';
import type { Store } from '../store';
import type { SkillTool, ToolCallContext, ToolOutcome } from './types';

/** What an in-process tool may use beyond its call context. */
export interface InProcessContext extends ToolCallContext {
  store: Store;
  workspaceDir: string;
  now: () => number;
}

export interface InProcessTool {
  readonly spec: SkillTool['spec'];
  readonly risky: boolean;
  readonly timeoutMs?: number;
  run(input: unknown, ctx: InProcessContext): Promise<ToolOutcome>;
}

export interface ToolDefinition<S extends z.ZodType> {
  name: string;
  description: string;
  risky: boolean;
  input: S;
  /** Longest a call may take (default: the catalog's). */
  timeoutMs?: number;
  run(input: z.output<S>, ctx: InProcessContext): Promise<string> | string;
}

/** Longest tool result handed back to the model; the rest is cut with a note. */
export const MAX_TOOL_RESULT_CHARS = 100_000;

export function defineTool<S extends z.ZodType>(def: ToolDefinition<S>): InProcessTool {
  const inputSchema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete inputSchema.$schema;
  return {
    spec: { name: def.name, description: def.description, inputSchema },
    risky: def.risky,
    ...(def.timeoutMs === undefined ? {} : { timeoutMs: def.timeoutMs }),
    async run(input, ctx) {
      const parsed = def.input.safeParse(input ?? {});
      if (!parsed.success) return invalidInput(def.name, parsed.error.issues);
      try {
        return { ok: true, content: clipResult(await def.run(parsed.data, ctx)) };
      } catch (err) {
        return { ok: false, content: `${def.name} failed: ${describeToolError(err)}` };
      }
    },
  };
}

export function invalidInput(name: string, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): ToolOutcome {
  const text = issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; ');
  return { ok: false, content: `Invalid input for ${name}: ${text}` };
}

export function clipResult(text: string): string {
  if (text.length <= MAX_TOOL_RESULT_CHARS) return text;
  return `${text.slice(0, MAX_TOOL_RESULT_CHARS)}\n[… ${text.length - MAX_TOOL_RESULT_CHARS} more characters cut]`;
}

export function describeToolError(err: unknown): string {
  if (err instanceof AppError) return err.message;
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return 'unknown error';
}
