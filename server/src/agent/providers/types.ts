/**
 * What the agent needs from a model provider. Adapters over the real SDKs
 * (@anthropic-ai/sdk, openai) implement it; errors come out as AppError with
 * a PROVIDER_* code (or CANCELLED when the signal aborts).
 */
import type { ProviderId, TokenUsage, ToolSpec } from '@autoclaw/shared';

export type { ToolSpec };

export type ProviderContent =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolUseId: string; content: string; isError: boolean };

export interface ProviderMessage {
  role: 'user' | 'assistant';
  content: ProviderContent[];
}

export interface ProviderRequest {
  model: string;
  system: string;
  /**
   * Conversation, oldest first. When the last message is from the assistant
   * its text is a prefix the model must continue (used to resume an
   * interrupted answer without repeating it).
   */
  messages: ProviderMessage[];
  tools: ToolSpec[];
  maxTokens: number;
  signal: AbortSignal;
}

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'other';

export type ProviderEvent =
  | { type: 'text'; text: string }
  | {
      type: 'tool_call';
      id: string;
      name: string;
      input: unknown;
      /**
       * Set when the model's tool input was not valid JSON (e.g. cut off by
       * max_tokens); `input` is then `{}`. Answer with an error tool result
       * instead of running the tool.
       */
      inputError?: string;
    }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'done'; stopReason: StopReason };

export interface Provider {
  readonly id: ProviderId;
  /**
   * One provider call: streams events, ends with exactly one `done` on success.
   * `usage` comes at most once per call: just before `done`, or just before the
   * thrown error when the provider had already accepted (and billed) the call.
   */
  stream(request: ProviderRequest): AsyncIterable<ProviderEvent>;
}
