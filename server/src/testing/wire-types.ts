/**
 * Test support: local servers that speak the Anthropic Messages and OpenAI
 * Chat Completions wire protocols, so the REAL SDKs run against them in tests,
 * e2e runs and benchmarks. Never imported by product code.
 *
 * A test scripts replies with `enqueue`. When the queue is empty the server
 * answers with its default responder, driven by the last user text, so that
 * a gateway running in another process can be steered by what is typed:
 *   - last message is a tool result  → text "Tool NAME returned: CONTENT"
 *   - text contains `/tool NAME {json}` → one tool call NAME with that input
 *   - text contains `/slow`          → the echo with 40 ms between words
 *   - text contains `/fail-once`     → (first time only for that text) some words,
 *                                       then a mid-stream error event; the retry
 *                                       is answered normally (continuation)
 *   - text contains `/hang`          → a few words, then never finishes (until closed)
 *   - otherwise                      → "Echo: TEXT" streamed word by word
 * A request whose system prompt asks for a summary (contains "Summarize") is
 * answered with "Summary: N messages".
 */
export interface ScriptedUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export type ScriptedReply =
  | { kind: 'text'; text: string; chunkDelayMs?: number; usage?: ScriptedUsage }
  | { kind: 'tool_use'; calls: Array<{ id?: string; name: string; input: unknown }>; text?: string; usage?: ScriptedUsage }
  /** A non-2xx answer with the provider's documented error body. */
  | { kind: 'http_error'; status: number; type?: string; message?: string; retryAfter?: string }
  /** Streams `textBefore`, then a mid-stream error (Anthropic `event: error`; OpenAI: connection cut). */
  | { kind: 'midstream_error'; textBefore: string; errorType?: string }
  /** Streams `textBefore`, then nothing until the client goes away. */
  | { kind: 'hang'; textBefore?: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** performance.now() when the request arrived and when its response finished (benchmarks subtract provider time). */
  startedAt?: number;
  finishedAt?: number;
}

export interface WireServer {
  /** Base URL to give the SDK (`baseURL`). */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  enqueue(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export interface WireServerOptions {
  /** When set, requests with another key get the provider's 401 body. */
  apiKey?: string;
  /** When set, other models get the provider's 404 model-not-found body. */
  models?: string[];
  /** Split every SSE write into pieces of at most this many bytes (exercises framing). */
  maxChunkBytes?: number;
  /** Delay between streamed words for the default responder (default 0). */
  wordDelayMs?: number;
  port?: number;
  /** Called when a response has finished (benchmarks: provider time without keeping every request). */
  onFinished?: (request: RecordedRequest) => void;
}
