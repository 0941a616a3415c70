// The "instant provider" of bench/gateway.bench.ts, on a thread of its own:
// an Anthropic wire server that answers at once. On the bench's main thread
// it would share one event loop with the client, so the client's handling
// of the gateway's events would delay the provider and be counted as gateway
// time. Posts {url} once, then {ms} (arrival → response finished) per request.
import { parentPort, workerData } from 'node:worker_threads';
import { startAnthropicWireServer } from '../server/src/testing/anthropic-wire-server';

const port = parentPort!;
const wire = await startAnthropicWireServer({
  apiKey: (workerData as { apiKey: string }).apiKey,
  onFinished: (request) => {
    port.postMessage({ ms: (request.finishedAt ?? 0) - (request.startedAt ?? 0) });
    // Each request holds the whole conversation: keep none.
    wire.requests.length = 0;
  },
});
port.postMessage({ url: wire.url });
port.on('message', (message: { close?: boolean }) => {
  if (message.close) void wire.close().then(() => port.close());
});
