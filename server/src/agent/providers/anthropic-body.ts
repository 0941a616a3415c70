/**
 * The Messages API request body, serialised by us rather than by the SDK.
 *
 * The SDK serialises the whole conversation with JSON.stringify on every
 * request, and walks every message for its helper header. The context hands
 * out the same API message objects for a session's settled past turn after
 * turn and never changes them (agent/settled-past.ts, BlockCache in
 * anthropic.ts), so each message's JSON is made once and kept beside it; a
 * request joins the kept pieces. The result is the string JSON.stringify
 * gives for the same params (anthropic-body.test.ts checks it), handed to
 * the SDK as its `body` request option with a JSON content type, which the
 * SDK sends verbatim.
 */
import type Anthropic from '@anthropic-ai/sdk';

/** The params of a streamed Messages request, in the key order they are sent. */
export interface StreamParams {
  model: string;
  max_tokens: number;
  messages: Anthropic.MessageParam[];
  stream: true;
  system?: string;
  tools?: Anthropic.Tool[];
}

/** JSON kept per message object and per tool list (both never change once made). */
export type JsonCache = WeakMap<object, string>;

function jsonOf(value: object, cache: JsonCache): string {
  let json = cache.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    cache.set(value, json);
  }
  return json;
}

/** `JSON.stringify(params)`, with each message's and the tool list's JSON taken from `cache` when made before. */
export function encodeStreamBody(params: StreamParams, cache: JsonCache): string {
  const { messages } = params;
  const parts = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) parts[i] = jsonOf(messages[i] as Anthropic.MessageParam, cache);
  let body = `{"model":${JSON.stringify(params.model)},"max_tokens":${JSON.stringify(params.max_tokens)},"messages":[${parts.join(',')}],"stream":true`;
  if (params.system !== undefined) body += `,"system":${JSON.stringify(params.system)}`;
  if (params.tools !== undefined) body += `,"tools":${jsonOf(params.tools, cache)}`;
  return `${body}}`;
}
