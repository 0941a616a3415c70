/**
 * Provider over @anthropic-ai/sdk (Messages API, streaming). The SDK is
 * imported on the first call so gateway start-up never loads it; its own
 * retries are off (retry.ts is the only retry policy).
 */
import type Anthropic from '@anthropic-ai/sdk';
import { AppError, ZERO_USAGE, type TokenUsage } from '@autoclaw/shared';
import { encodeStreamBody, type JsonCache, type StreamParams } from './anthropic-body';
import { cancelledError, toProviderError, type ProviderErrorContext } from './errors';
import { createHttpFetch } from './http-fetch';
import { RepeatStripper } from './repeat-stripper';
import { parseToolInput } from './tool-input';
import type { Provider, ProviderContent, ProviderEvent, ProviderMessage, ProviderRequest, StopReason } from './types';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicProviderOptions {
  apiKey: string;
  /** Defaults to the public API; always passed to the SDK explicitly. */
  baseURL?: string;
  /** Clock for HTTP-date `retry-after` headers. */
  now?: () => number;
}

export function createAnthropicProvider(opts: AnthropicProviderOptions): Provider {
  let client: Promise<Anthropic> | undefined;
  const getClient = (): Promise<Anthropic> => {
    client ??= import('@anthropic-ai/sdk').then(
      ({ default: AnthropicClient }) =>
        new AnthropicClient({
          apiKey: opts.apiKey,
          baseURL: opts.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
          maxRetries: 0,
          fetch: createHttpFetch().fetch,
          // The gateway exports no OpenTelemetry traces: without this the SDK starts a (no-op) span
          // and reads its attributes from the request on every call, and would hand conversation
          // metadata to any tracer provider a dependency registered.
          openTelemetry: { traces: false, propagation: false },
        }),
      (error: unknown) => {
        client = undefined;
        throw error;
      },
    );
    return client;
  };
  const now = opts.now ?? Date.now;
  const blocks: BlockCache & { json: JsonCache } = { content: new WeakMap(), messages: new WeakMap(), tools: new WeakMap(), json: new WeakMap() };
  return {
    id: 'anthropic',
    stream: (request) =>
      streamAnthropic(getClient, request, blocks, { label: 'Anthropic', model: request.model, signal: request.signal, now, secrets: [opts.apiKey] }),
  };
}

function toBlocks(parts: readonly ProviderContent[]): Anthropic.ContentBlockParam[] {
  const content: Anthropic.ContentBlockParam[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as ProviderContent;
    if (part.type === 'text') {
      if (part.text.length > 0) content.push({ type: 'text', text: part.text });
    } else if (part.type === 'tool_use') {
      const input = typeof part.input === 'object' && part.input !== null ? (part.input as Record<string, unknown>) : {};
      content.push({ type: 'tool_use', id: part.id, name: part.name, input });
    } else {
      content.push({
        type: 'tool_result',
        tool_use_id: part.toolUseId,
        ...(part.content.length > 0 ? { content: part.content } : {}),
        is_error: part.isError,
      });
    }
  }
  return content;
}

/**
 * Conversions kept between requests: the context hands out the same message
 * objects (and content arrays) for a session's settled past turn after turn,
 * and never changes them (see agent/settled-past.ts), so each is converted
 * once; tools by spec list.
 */
export interface BlockCache {
  content: WeakMap<readonly ProviderContent[], Anthropic.ContentBlockParam[]>;
  tools: WeakMap<ProviderRequest['tools'], Anthropic.Tool[]>;
  /** The API message of a message (null: it has no content and is left out). */
  messages?: WeakMap<ProviderMessage, Anthropic.MessageParam | null>;
}

function blocksOf(parts: readonly ProviderContent[], cache: Pick<BlockCache, 'content'> | undefined): Anthropic.ContentBlockParam[] {
  let content = cache?.content.get(parts);
  if (content === undefined) {
    content = toBlocks(parts);
    cache?.content.set(parts, content);
  }
  return content;
}

function toParam(message: ProviderMessage, cache: Pick<BlockCache, 'content' | 'messages'> | undefined): Anthropic.MessageParam | null {
  const content = blocksOf(message.content, cache);
  // Empty messages are skipped; the API joins consecutive turns of one role.
  const param = content.length === 0 ? null : { role: message.role, content };
  cache?.messages?.set(message, param);
  return param;
}

/**
 * Our messages in the API's shape. A trailing assistant message is native
 * prefill; the API refuses trailing whitespace there, so it is trimmed and the
 * trimmed whitespace is the `repeat` to drop if the model starts with it.
 * With `cache`, a message or content array seen before is not converted
 * again (the blocks are shared: the SDK only serialises them).
 */
export function toAnthropicMessages(messages: ProviderMessage[], cache?: Pick<BlockCache, 'content' | 'messages'>): { messages: Anthropic.MessageParam[]; repeat: string } {
  // Sized once (growing it push by push copies the whole conversation's list again and again).
  const out = new Array<Anthropic.MessageParam>(messages.length);
  let count = 0;
  let repeat = '';
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProviderMessage;
    if (message.role === 'assistant' && i === messages.length - 1) {
      const content = blocksOf(message.content, cache);
      if (content.every((block) => block.type === 'text')) {
        const text = content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        const trimmed = text.trimEnd();
        repeat = text.slice(trimmed.length);
        if (trimmed.length > 0) out[count++] = { role: 'assistant', content: [{ type: 'text', text: trimmed }] };
        continue;
      }
    }
    const known = cache?.messages?.get(message);
    const param = known === undefined ? toParam(message, cache) : known;
    if (param !== null) out[count++] = param;
  }
  out.length = count;
  return { messages: out, repeat };
}

function mapStopReason(reason: string | null | undefined): StopReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'end_turn';
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    default:
      return 'other';
  }
}

/** The tool specs in the API's shape; converted once per set of tools (the catalog hands out the same array until it changes). */
function toAnthropicTools(specs: ProviderRequest['tools'], cache: BlockCache): Anthropic.Tool[] {
  let tools = cache.tools.get(specs);
  if (tools === undefined) {
    tools = specs.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.inputSchema as Anthropic.Tool.InputSchema }));
    cache.tools.set(specs, tools);
  }
  return tools;
}

async function* streamAnthropic(
  getClient: () => Promise<Anthropic>,
  request: ProviderRequest,
  blocks: BlockCache & { json: JsonCache },
  errorContext: ProviderErrorContext,
): AsyncGenerator<ProviderEvent> {
  if (request.signal.aborted) throw cancelledError();
  const { messages, repeat } = toAnthropicMessages(request.messages, blocks);
  const stripper = new RepeatStripper(repeat);
  const tools = new Map<number, { id: string; name: string; json: string }>();
  let usage = null as TokenUsage | null; // widened: assigned inside the loop
  let stopReason: StopReason = 'other';
  let finished = false;

  try {
    const client = await getClient();
    const params: StreamParams = {
      model: request.model,
      max_tokens: request.maxTokens,
      messages,
      stream: true,
      ...(request.system.length > 0 ? { system: request.system } : {}),
      ...(request.tools.length > 0 ? { tools: toAnthropicTools(request.tools, blocks) } : {}),
    };
    // The body goes as made by encodeStreamBody (see anthropic-body.ts); the SDK reads the params only
    // for its headers and stream mode, so they carry no messages for it to walk.
    const stream = await client.messages.create(
      { model: params.model, max_tokens: params.max_tokens, messages: [], stream: true },
      { signal: request.signal, body: encodeStreamBody(params, blocks.json), headers: { 'content-type': 'application/json' } },
    );
    for await (const event of stream) {
      switch (event.type) {
        case 'message_start': {
          const u = event.message.usage;
          usage = {
            inputTokens: u.input_tokens,
            outputTokens: u.output_tokens,
            cacheReadTokens: u.cache_read_input_tokens ?? 0,
            cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
          };
          break;
        }
        case 'content_block_start': {
          const block = event.content_block;
          if (block.type === 'tool_use') tools.set(event.index, { id: block.id, name: block.name, json: '' });
          else if (block.type === 'text' && block.text.length > 0) {
            const text = stripper.push(block.text);
            if (text.length > 0) yield { type: 'text', text };
          }
          break;
        }
        case 'content_block_delta': {
          const delta = event.delta;
          if (delta.type === 'text_delta') {
            const text = stripper.push(delta.text);
            if (text.length > 0) yield { type: 'text', text };
          } else if (delta.type === 'input_json_delta') {
            const tool = tools.get(event.index);
            if (tool) tool.json += delta.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const tool = tools.get(event.index);
          if (tool) {
            tools.delete(event.index);
            yield { type: 'tool_call', id: tool.id, name: tool.name, ...parseToolInput(tool.json) };
          }
          break;
        }
        case 'message_delta': {
          stopReason = mapStopReason(event.delta.stop_reason);
          // message_delta usage is cumulative; newer API versions also restate input/cache counts.
          const u = event.usage;
          usage = {
            inputTokens: u.input_tokens ?? usage?.inputTokens ?? 0,
            outputTokens: u.output_tokens,
            cacheReadTokens: u.cache_read_input_tokens ?? usage?.cacheReadTokens ?? 0,
            cacheWriteTokens: u.cache_creation_input_tokens ?? usage?.cacheWriteTokens ?? 0,
          };
          break;
        }
        case 'message_stop':
          finished = true;
          break;
      }
    }
  } catch (error) {
    const appError = toProviderError(error, errorContext);
    // The call was accepted (message_start came), so its tokens count.
    if (usage) yield { type: 'usage', usage };
    throw appError;
  }
  // The SDK ends the iteration quietly when the signal aborts it.
  if (request.signal.aborted || !finished) {
    if (usage) yield { type: 'usage', usage };
    if (request.signal.aborted) throw cancelledError();
    throw new AppError('PROVIDER_UNAVAILABLE', 'Anthropic ended the answer early (no message_stop) — try again shortly');
  }
  yield { type: 'usage', usage: usage ?? ZERO_USAGE };
  yield { type: 'done', stopReason };
}
