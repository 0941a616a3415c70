/**
 * Provider over the `openai` SDK (Chat Completions, streaming), for OpenAI
 * itself and any OpenAI-compatible server (Ollama, llama.cpp, vLLM,
 * OpenRouter). The SDK is imported on the first call; its own retries are off.
 */
import type OpenAI from 'openai';
import { AppError, ZERO_USAGE, type TokenUsage } from '@autoclaw/shared';
import { cancelledError, toProviderError, type ProviderErrorContext } from './errors';
import { createHttpFetch } from './http-fetch';
import { RepeatStripper } from './repeat-stripper';
import { parseToolInput } from './tool-input';
import type { Provider, ProviderEvent, ProviderMessage, ProviderRequest, StopReason } from './types';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIProviderOptions {
  id: 'openai' | 'openai-compatible';
  /** Optional for compatible servers, which often need none. */
  apiKey?: string;
  /** Required for 'openai-compatible'; defaults to the public API for 'openai'. */
  baseURL?: string;
  now?: () => number;
}

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export function createOpenAIProvider(opts: OpenAIProviderOptions): Provider {
  const label = opts.id === 'openai' ? 'OpenAI' : 'The OpenAI-compatible server';
  const apiKey = opts.apiKey !== undefined && opts.apiKey.length > 0 ? opts.apiKey : undefined;
  let client: Promise<OpenAI> | undefined;
  const getClient = (): Promise<OpenAI> => {
    client ??= import('openai').then(
      ({ default: OpenAIClient }) =>
        new OpenAIClient({
          // The SDK insists on a key; without one we send none (Authorization: null unsets the header).
          apiKey: apiKey ?? 'no-key',
          ...(apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
          baseURL: opts.baseURL ?? OPENAI_DEFAULT_BASE_URL,
          organization: null,
          project: null,
          maxRetries: 0,
          fetch: createHttpFetch().fetch,
        }),
      (error: unknown) => {
        client = undefined;
        throw error;
      },
    );
    return client;
  };
  const now = opts.now ?? Date.now;
  const converted: ChatMessageCache = new WeakMap();
  return {
    id: opts.id,
    stream: (request) =>
      streamOpenAI(getClient, request, opts.id, converted, {
        label,
        model: request.model,
        signal: request.signal,
        now,
        secrets: apiKey === undefined ? [] : [apiKey],
      }),
  };
}

/** A message in Chat Completions shape, and its text when it is an answer without tool calls (the `repeat` if it ends the list). */
interface Converted {
  out: ChatMessage[];
  answer: string | null;
}

/** Conversions kept between requests (the context reuses a session's settled past messages, never changed; see agent/settled-past.ts). */
export type ChatMessageCache = WeakMap<ProviderMessage, Converted>;

function convert(message: ProviderMessage): Converted {
  const out: ChatMessage[] = [];
  const texts = message.content.flatMap((part) => (part.type === 'text' ? [part.text] : []));
  // Assistant pieces are one answer (a continuation); user pieces are separate messages.
  const text = texts.join(message.role === 'user' ? '\n\n' : '');
  if (message.role === 'user') {
    for (const part of message.content) {
      if (part.type !== 'tool_result') continue;
      out.push({ role: 'tool', tool_call_id: part.toolUseId, content: part.isError ? `Error: ${part.content}` : part.content });
    }
    if (text.length > 0) out.push({ role: 'user', content: text });
    return { out, answer: null };
  }
  const calls = message.content.flatMap((part) =>
    part.type === 'tool_use'
      ? [{ id: part.id, type: 'function' as const, function: { name: part.name, arguments: JSON.stringify(part.input ?? {}) } }]
      : [],
  );
  if (text.length > 0 || calls.length > 0) out.push({ role: 'assistant', content: text.length > 0 ? text : null, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
  return { out, answer: calls.length === 0 ? text : null };
}

/**
 * Our messages in Chat Completions shape: tool results become `tool`
 * messages (before any user text of the same turn), tool uses become the
 * assistant's `tool_calls`. A trailing assistant message is sent as is and
 * returned as `repeat`: chat models tend to restate it, so the answer's start
 * is checked against it. With `cache`, a message seen before is not converted again.
 */
export function toOpenAIMessages(system: string, messages: ProviderMessage[], cache?: ChatMessageCache): { messages: ChatMessage[]; repeat: string } {
  const out: ChatMessage[] = [];
  let repeat = '';
  if (system.length > 0) out.push({ role: 'system', content: system });
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProviderMessage;
    let converted = cache?.get(message);
    if (converted === undefined) {
      converted = convert(message);
      cache?.set(message, converted);
    }
    for (let j = 0; j < converted.out.length; j++) out.push(converted.out[j] as ChatMessage);
    if (i === messages.length - 1 && converted.answer !== null) repeat = converted.answer;
  }
  return { messages: out, repeat };
}

function mapFinishReason(reason: string): StopReason {
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    default:
      return 'other';
  }
}

async function* streamOpenAI(
  getClient: () => Promise<OpenAI>,
  request: ProviderRequest,
  id: OpenAIProviderOptions['id'],
  converted: ChatMessageCache,
  errorContext: ProviderErrorContext,
): AsyncGenerator<ProviderEvent> {
  if (request.signal.aborted) throw cancelledError();
  const { messages, repeat } = toOpenAIMessages(request.system, request.messages, converted);
  const stripper = new RepeatStripper(repeat);
  const calls = new Map<number, { id: string; name: string; args: string }>();
  let usage = null as TokenUsage | null; // widened: assigned inside the loop
  let finishReason: string | null = null;

  try {
    const client = await getClient();
    const stream = await client.chat.completions.create(
      {
        model: request.model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        // OpenAI's newer models accept only max_completion_tokens; compatible servers know max_tokens.
        ...(id === 'openai' ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
        ...(request.tools.length > 0
          ? {
              tools: request.tools.map((tool) => ({
                type: 'function' as const,
                function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
              })),
            }
          : {}),
      },
      { signal: request.signal },
    );
    for await (const chunk of stream) {
      if (chunk.usage) {
        const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
        usage = {
          inputTokens: Math.max(0, chunk.usage.prompt_tokens - cached),
          outputTokens: chunk.usage.completion_tokens,
          cacheReadTokens: cached,
          cacheWriteTokens: 0,
        };
      }
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const content = choice.delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        const text = stripper.push(content);
        if (text.length > 0) yield { type: 'text', text };
      }
      for (const call of choice.delta?.tool_calls ?? []) {
        let acc = calls.get(call.index);
        if (!acc) {
          acc = { id: '', name: '', args: '' };
          calls.set(call.index, acc);
        }
        if (call.id) acc.id = call.id;
        if (call.function?.name && acc.name.length === 0) acc.name = call.function.name;
        if (call.function?.arguments) acc.args += call.function.arguments;
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  } catch (error) {
    const appError = toProviderError(error, errorContext);
    if (usage) yield { type: 'usage', usage };
    throw appError;
  }
  if (request.signal.aborted || finishReason === null) {
    if (usage) yield { type: 'usage', usage };
    if (request.signal.aborted) throw cancelledError();
    throw new AppError('PROVIDER_UNAVAILABLE', `${errorContext.label} ended the answer early (no finish_reason) — try again shortly`);
  }
  for (const [index, call] of [...calls.entries()].sort(([a], [b]) => a - b)) {
    yield { type: 'tool_call', id: call.id || `call_${index}`, name: call.name, ...parseToolInput(call.args) };
  }
  // Servers that ignore stream_options send no usage; the call still gets its one record.
  yield { type: 'usage', usage: usage ?? ZERO_USAGE };
  // Some compatible servers report "stop" even when they called tools.
  yield { type: 'done', stopReason: calls.size > 0 ? 'tool_use' : mapFinishReason(finishReason) };
}
