/**
 * The tool registry: every tool the model may call, with its JSON Schema for
 * the provider, whether it needs the user's approval, and a zod schema that
 * validates the model's input before the tool runs. A bad input, an unknown
 * tool or a throwing tool becomes an error result for the model, never a crash.
 */
import { z } from 'zod';
import { AppError } from '@autoclaw/shared';
import type { Store } from '../../store/types';
import type { ToolSpec } from '../providers/types';

export interface ToolContext {
  store: Store;
  workspaceDir: string;
  now: () => number;
  sessionId: string;
  signal: AbortSignal;
}

export interface ToolOutcome {
  ok: boolean;
  /** Text handed back to the model (and stored as the tool call's result). */
  content: string;
}

export interface RegisteredTool {
  readonly spec: ToolSpec;
  /** Risky tools wait for the user's approval before they run. */
  readonly risky: boolean;
  run(input: unknown, ctx: ToolContext): Promise<ToolOutcome>;
}

export interface ToolDefinition<S extends z.ZodType> {
  name: string;
  description: string;
  risky: boolean;
  input: S;
  run(input: z.output<S>, ctx: ToolContext): Promise<string> | string;
}

/** Longest tool result handed back to the model; the rest is cut with a note. */
export const MAX_TOOL_RESULT_CHARS = 100_000;

export function defineTool<S extends z.ZodType>(def: ToolDefinition<S>): RegisteredTool {
  const inputSchema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete inputSchema.$schema;
  return {
    spec: { name: def.name, description: def.description, inputSchema },
    risky: def.risky,
    async run(input, ctx) {
      const parsed = def.input.safeParse(input ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
        return { ok: false, content: `Invalid input for ${def.name}: ${issues}` };
      }
      try {
        return { ok: true, content: clip(await def.run(parsed.data, ctx)) };
      } catch (err) {
        return { ok: false, content: `${def.name} failed: ${describeToolError(err)}` };
      }
    },
  };
}

export class ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();
  #specs: ToolSpec[] = [];

  constructor(tools: readonly RegisteredTool[]) {
    for (const tool of tools) {
      if (this.#tools.has(tool.spec.name)) throw new AppError('INTERNAL', `Tool ${tool.spec.name} is registered twice`);
      this.#tools.set(tool.spec.name, tool);
    }
    this.#specs = tools.map((t) => t.spec);
  }

  /** Specs for the provider request (same array every call: no per-turn allocation). */
  specs(): ToolSpec[] {
    return this.#specs;
  }

  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  names(): string[] {
    return [...this.#tools.keys()];
  }

  isRisky(name: string): boolean {
    return this.#tools.get(name)?.risky ?? false;
  }

  async run(name: string, input: unknown, ctx: ToolContext): Promise<ToolOutcome> {
    const tool = this.#tools.get(name);
    if (!tool) return { ok: false, content: `Unknown tool "${name}". Available tools: ${this.names().join(', ')}` };
    return tool.run(input, ctx);
  }
}

function clip(text: string): string {
  if (text.length <= MAX_TOOL_RESULT_CHARS) return text;
  return `${text.slice(0, MAX_TOOL_RESULT_CHARS)}\n[… ${text.length - MAX_TOOL_RESULT_CHARS} more characters cut]`;
}

function describeToolError(err: unknown): string {
  if (err instanceof AppError) return err.message;
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return 'unknown error';
}
