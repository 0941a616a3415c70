/**
 * A local server speaking the OpenAI Chat Completions API
 * (`POST /v1/chat/completions`), streaming and not, with its documented error
 * bodies. The SDK's `baseURL` is the server's `url` (which ends in `/v1`).
 * A trailing assistant message is answered like chat models tend to: the
 * reply restates it (clients strip the repeat). See wire-types.ts.
 */
import type { ServerResponse } from 'node:http';
import { replyUsage, splitFragments, splitWords, type ConversationView } from './default-responder';
import { sendJson, startWireServer, type WireBase, type WireServerHandle } from './wire-server-base';
import type { ScriptedReply, WireServerOptions } from './wire-types';

const ERROR_BY_STATUS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'Not found' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later' },
};

interface OpenAIMessage {
  role?: unknown;
  content?: unknown;
  tool_call_id?: unknown;
  tool_calls?: unknown;
}

export async function startOpenAIWireServer(opts: WireServerOptions = {}): Promise<WireServerHandle> {
  return startWireServer(opts, '/v1', (base) => async ({ req, res, body, bodyBytes }) => {
    const requestId = base.nextId('req');
    const fail = (status: number, type?: string, message?: string, retryAfter?: string): void => {
      const known = ERROR_BY_STATUS[status] ?? ERROR_BY_STATUS[status >= 500 ? 500 : 400];
      const headers: Record<string, string> = { 'x-request-id': requestId };
      if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
      sendJson(
        res,
        status,
        { error: { message: message ?? known?.message ?? 'Error', type: type ?? known?.type ?? 'server_error', param: null, code: known?.code ?? null } },
        headers,
      );
    };

    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return fail(404, 'invalid_request_error', `Invalid URL (${req.method ?? 'GET'} ${path ?? '/'})`);
    }
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) return fail(401);
    const params = body as { model?: unknown; messages?: unknown; stream?: unknown; stream_options?: unknown } | undefined;
    if (typeof params !== 'object' || params === null) return fail(400, undefined, 'We could not parse the JSON body of your request.');
    if (typeof params.model !== 'string') return fail(400, undefined, "Missing required parameter: 'model'.");
    if (!Array.isArray(params.messages)) return fail(400, undefined, "Missing required parameter: 'messages'.");
    if (opts.models && !opts.models.includes(params.model)) {
      return fail(404, undefined, `The model \`${params.model}\` does not exist or you do not have access to it.`);
    }

    const messages = params.messages as OpenAIMessage[];
    const reply = base.nextReply(() => openaiView(messages));
    if (reply.kind === 'http_error') return fail(reply.status, reply.type, reply.message, reply.retryAfter);
    const includeUsage = (params.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const ctx = { model: params.model, requestId, bodyBytes, includeUsage };
    if (params.stream === true) return streamReply(base, res, reply, ctx);
    return jsonReply(base, res, reply, ctx, fail);
  });
}

interface CompletionContext {
  model: string;
  requestId: string;
  bodyBytes: number;
  includeUsage: boolean;
}

function usageBody(usage: ReturnType<typeof replyUsage>): Record<string, unknown> {
  const prompt = usage.input + usage.cacheRead;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output,
    total_tokens: prompt + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

async function streamReply(base: WireBase, res: ServerResponse, reply: ScriptedReply, ctx: CompletionContext): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': ctx.requestId });
  const sink = base.sink(res);
  const id = base.nextId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage?: unknown): void => {
    const data: Record<string, unknown> = { id, object: 'chat.completion.chunk', created, model: ctx.model, system_fingerprint: 'fp_autoclaw', choices };
    if (ctx.includeUsage) data.usage = usage ?? null;
    sink.push(`data: ${JSON.stringify(data)}\n\n`);
  };
  const delta = (d: Record<string, unknown>, finishReason: string | null = null): void =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);

  const text =
    reply.kind === 'text' ? reply.text
    : reply.kind === 'tool_use' ? (reply.text ?? '')
    : reply.kind === 'http_error' ? ''
    : (reply.textBefore ?? '');
  const words = splitWords(text);
  const usage = replyUsage('usage' in reply ? reply.usage : undefined, ctx.bodyBytes, words.length);
  const delay = reply.kind === 'text' ? (reply.chunkDelayMs ?? 0) : 0;

  delta({ role: 'assistant', content: '', refusal: null });
  for (const [i, word] of words.entries()) {
    delta({ content: word });
    if (delay > 0 && i < words.length - 1) {
      await sink.flush();
      await sink.sleep(delay);
      if (sink.closed) return;
    }
  }
  if (reply.kind === 'midstream_error') return sink.cut();
  if (reply.kind === 'hang') {
    await sink.flush();
    await sink.sleep(Number.POSITIVE_INFINITY);
    return sink.end();
  }
  let finishReason = 'stop';
  if (reply.kind === 'tool_use') {
    finishReason = 'tool_calls';
    for (const [index, call] of reply.calls.entries()) {
      const callId = call.id ?? base.nextId('call');
      delta({ tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] });
      for (const piece of splitFragments(JSON.stringify(call.input ?? {}), 3)) {
        delta({ tool_calls: [{ index, function: { arguments: piece } }] });
      }
    }
  }
  delta({}, finishReason);
  if (ctx.includeUsage) chunk([], usageBody(usage));
  sink.push('data: [DONE]\n\n');
  await sink.end();
}

async function jsonReply(
  base: WireBase,
  res: ServerResponse,
  reply: ScriptedReply,
  ctx: CompletionContext,
  fail: (status: number, type?: string, message?: string) => void,
): Promise<void> {
  if (reply.kind === 'midstream_error') return fail(503);
  if (reply.kind === 'hang') {
    const sink = base.sink(res);
    await sink.sleep(Number.POSITIVE_INFINITY);
    return sink.cut();
  }
  if (reply.kind === 'http_error') return fail(reply.status, reply.type, reply.message);
  const text = reply.text ?? '';
  const toolCalls =
    reply.kind === 'tool_use'
      ? reply.calls.map((call) => ({
          id: call.id ?? base.nextId('call'),
          type: 'function',
          function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) },
        }))
      : undefined;
  const usage = replyUsage(reply.usage, ctx.bodyBytes, splitWords(text).length);
  sendJson(
    res,
    200,
    {
      id: base.nextId('chatcmpl'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: ctx.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text.length > 0 ? text : null, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          logprobs: null,
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
        },
      ],
      usage: usageBody(usage),
    },
    { 'x-request-id': ctx.requestId },
  );
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Array<{ type?: unknown; text?: unknown }>)
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('');
}

function openaiView(messages: OpenAIMessage[]): ConversationView {
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content)).join('\n');
  const conversation = messages.filter((m) => m.role !== 'system' && m.role !== 'developer');
  const toolNames = new Map<string, string>();
  for (const message of conversation) {
    if (message.role !== 'assistant' || !Array.isArray(message.tool_calls)) continue;
    for (const call of message.tool_calls as Array<{ id?: unknown; function?: { name?: unknown } }>) {
      toolNames.set(String(call.id), String(call.function?.name));
    }
  }
  // Tool results are the trailing run of `tool` messages.
  const trailing: OpenAIMessage[] = [];
  for (let i = conversation.length - 1; i >= 0 && conversation[i]?.role === 'tool'; i--) trailing.unshift(conversation[i] as OpenAIMessage);
  const lastUser = conversation.findLast((m) => m.role === 'user');
  return {
    system,
    messageCount: conversation.length,
    lastUserText: lastUser ? textOf(lastUser.content) : '',
    toolResults:
      trailing.length > 0
        ? trailing.map((m) => ({ name: toolNames.get(String(m.tool_call_id)) ?? 'unknown', content: textOf(m.content) }))
        : null,
  };
}
