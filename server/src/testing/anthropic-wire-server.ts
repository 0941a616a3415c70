/**
 * A local server speaking the Anthropic Messages API (`POST /v1/messages`),
 * streaming and not, with its documented error bodies. The SDK's `baseURL` is
 * the server's `url`. See wire-types.ts for the scripting contract.
 */
import type { ServerResponse } from 'node:http';
import { replyUsage, splitFragments, splitWords, type ConversationView } from './default-responder';
import { sendJson, startWireServer, type WireBase, type WireServerHandle } from './wire-server-base';
import type { ScriptedReply, WireServerOptions } from './wire-types';

const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const MESSAGE_BY_TYPE: Record<string, string> = {
  authentication_error: 'invalid x-api-key',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  overloaded_error: 'Overloaded',
  api_error: 'Internal server error',
};

interface AnthropicBlock {
  type?: unknown;
  text?: unknown;
  id?: unknown;
  name?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
}

interface AnthropicMessage {
  role?: unknown;
  content?: unknown;
}

export async function startAnthropicWireServer(opts: WireServerOptions = {}): Promise<WireServerHandle> {
  return startWireServer(opts, '', (base) => async ({ req, res, body, bodyBytes }) => {
    const requestId = base.nextId('req');
    const fail = (status: number, type?: string, message?: string, retryAfter?: string): void => {
      const errorType = type ?? ERROR_TYPE_BY_STATUS[status] ?? 'api_error';
      const headers: Record<string, string> = { 'request-id': requestId };
      if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
      sendJson(
        res,
        status,
        { type: 'error', error: { type: errorType, message: message ?? MESSAGE_BY_TYPE[errorType] ?? errorType }, request_id: requestId },
        headers,
      );
    };

    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/messages') return fail(404, 'not_found_error', 'Not found');
    // The API takes the key as `x-api-key`; SDK 1.x sends it as `Authorization: Bearer`.
    if (opts.apiKey !== undefined && req.headers['x-api-key'] !== opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return fail(401);
    }
    if (!req.headers['anthropic-version']) return fail(400, undefined, 'anthropic-version: header is required');
    const params = body as { model?: unknown; messages?: unknown; max_tokens?: unknown; stream?: unknown; system?: unknown } | undefined;
    if (typeof params !== 'object' || params === null) return fail(400, undefined, 'Request body must be a JSON object');
    if (typeof params.model !== 'string') return fail(400, undefined, 'model: Field required');
    if (!Array.isArray(params.messages)) return fail(400, undefined, 'messages: Field required');
    if (typeof params.max_tokens !== 'number') return fail(400, undefined, 'max_tokens: Field required');
    if (opts.models && !opts.models.includes(params.model)) return fail(404, 'not_found_error', `model: ${params.model}`);

    const model = params.model;
    const messages = params.messages as AnthropicMessage[];
    const reply = base.nextReply(() => anthropicView(params.system, messages));
    if (reply.kind === 'http_error') return fail(reply.status, reply.type, reply.message, reply.retryAfter);

    const last = messages.at(-1);
    const prefix = last?.role === 'assistant' ? textOf(last.content).trimEnd() : '';
    const message = { model, requestId, bodyBytes, prefix, maxTokens: params.max_tokens };
    if (params.stream === true) return streamReply(base, res, reply, message);
    return jsonReply(base, res, reply, message, fail);
  });
}

interface MessageContext {
  model: string;
  requestId: string;
  bodyBytes: number;
  /** Trailing assistant text (prefill) the reply continues. */
  prefix: string;
  /** The request's max_tokens: like the API, a text reply stops there (one word is one token here). */
  maxTokens: number;
}

/** With prefill the model continues the prefix, so a reply that restates it sends only the rest. */
function continuation(text: string, prefix: string): string {
  return prefix.length > 0 && text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

async function streamReply(base: WireBase, res: ServerResponse, reply: ScriptedReply, ctx: MessageContext): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': ctx.requestId,
  });
  const sink = base.sink(res);
  const frame = (event: string, data: unknown): void => sink.push(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const text = continuation(
    reply.kind === 'text' ? reply.text
    : reply.kind === 'tool_use' ? (reply.text ?? '')
    : reply.kind === 'http_error' ? ''
    : (reply.textBefore ?? ''),
    ctx.prefix,
  );
  const all = splitWords(text);
  const cut = reply.kind === 'text' && all.length > ctx.maxTokens;
  const words = cut ? all.slice(0, ctx.maxTokens) : all;
  const usage = replyUsage('usage' in reply ? reply.usage : undefined, ctx.bodyBytes, words.length);
  const delay = reply.kind === 'text' ? (reply.chunkDelayMs ?? 0) : 0;

  frame('message_start', {
    type: 'message_start',
    message: {
      id: base.nextId('msg'),
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input,
        cache_creation_input_tokens: usage.cacheWrite,
        cache_read_input_tokens: usage.cacheRead,
        output_tokens: 1,
      },
    },
  });

  let index = 0;
  if (words.length > 0 || reply.kind !== 'tool_use') {
    frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    frame('ping', { type: 'ping' });
    for (const [i, word] of words.entries()) {
      frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: word } });
      if (delay > 0 && i < words.length - 1) {
        await sink.flush();
        await sink.sleep(delay);
        if (sink.closed) return;
      }
    }
    if (reply.kind === 'midstream_error') {
      frame('error', { type: 'error', error: { type: reply.errorType ?? 'overloaded_error', message: 'Overloaded' } });
      return sink.end();
    }
    if (reply.kind === 'hang') {
      await sink.flush();
      await sink.sleep(Number.POSITIVE_INFINITY);
      return sink.end();
    }
    frame('content_block_stop', { type: 'content_block_stop', index });
    index++;
  }

  let stopReason = cut ? 'max_tokens' : 'end_turn';
  if (reply.kind === 'tool_use') {
    stopReason = 'tool_use';
    for (const call of reply.calls) {
      const id = call.id ?? base.nextId('toolu');
      frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: call.name, input: {} } });
      // Like the API: an empty first fragment, then the JSON in several pieces.
      for (const piece of ['', ...splitFragments(JSON.stringify(call.input ?? {}), 3)]) {
        frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
      frame('content_block_stop', { type: 'content_block_stop', index });
      index++;
    }
  }
  frame('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output },
  });
  frame('message_stop', { type: 'message_stop' });
  await sink.end();
}

async function jsonReply(
  base: WireBase,
  res: ServerResponse,
  reply: ScriptedReply,
  ctx: MessageContext,
  fail: (status: number, type?: string, message?: string) => void,
): Promise<void> {
  if (reply.kind === 'midstream_error') return fail(529, reply.errorType ?? 'overloaded_error');
  if (reply.kind === 'hang') {
    const sink = base.sink(res);
    await sink.sleep(Number.POSITIVE_INFINITY);
    return sink.cut();
  }
  if (reply.kind === 'http_error') return fail(reply.status, reply.type, reply.message);
  const content: unknown[] = [];
  const full = reply.kind === 'text' ? continuation(reply.text, ctx.prefix) : (reply.text ?? '');
  const all = splitWords(full);
  const cut = reply.kind === 'text' && all.length > ctx.maxTokens;
  const text = cut ? all.slice(0, ctx.maxTokens).join('') : full;
  if (text.length > 0) content.push({ type: 'text', text });
  if (reply.kind === 'tool_use') {
    for (const call of reply.calls) {
      content.push({ type: 'tool_use', id: call.id ?? base.nextId('toolu'), name: call.name, input: call.input ?? {} });
    }
  }
  const usage = replyUsage(reply.usage, ctx.bodyBytes, splitWords(text).length);
  sendJson(
    res,
    200,
    {
      id: base.nextId('msg'),
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content,
      stop_reason: reply.kind === 'tool_use' ? 'tool_use' : cut ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: usage.input,
        cache_creation_input_tokens: usage.cacheWrite,
        cache_read_input_tokens: usage.cacheRead,
        output_tokens: usage.output,
      },
    },
    { 'request-id': ctx.requestId },
  );
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as AnthropicBlock[])
    .filter((block) => block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text as string)
    .join('');
}

function anthropicView(system: unknown, messages: AnthropicMessage[]): ConversationView {
  const toolNames = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) continue;
    for (const block of message.content as AnthropicBlock[]) {
      if (block.type === 'tool_use' && typeof block.id === 'string') toolNames.set(block.id, String(block.name));
    }
  }
  const lastUser = messages.findLast((message) => message.role === 'user');
  let toolResults: ConversationView['toolResults'] = null;
  if (lastUser && lastUser === messages.at(-1) && Array.isArray(lastUser.content)) {
    const results = (lastUser.content as AnthropicBlock[]).filter((block) => block.type === 'tool_result');
    if (results.length > 0) {
      toolResults = results.map((block) => ({
        name: toolNames.get(String(block.tool_use_id)) ?? 'unknown',
        content: textOf(block.content),
      }));
    }
  }
  return {
    system: textOf(system),
    messageCount: messages.length,
    lastUserText: lastUser ? textOf(lastUser.content) : '',
    toolResults,
  };
}
