/**
 * The gateway's metrics (rendered at GET /metrics): turns by how they ended
 * and their latency, provider errors by code, spend, queue depth and the
 * clients connected; and the turn's log line, which carries the request id
 * of the connection that sent the message.
 */
import type { TurnEnd } from '../agent';
import { createMetricBook } from '../observability';
import type { MetricBook } from '../observability';
import type { Store } from '../store';
import type { Logger } from './logger';

/** A turn's error code that came from the model provider (PROVIDER_AUTH, PROVIDER_RATE_LIMITED, …). */
const isProviderCode = (code: string) => code.startsWith('PROVIDER_');
/** Most messages whose request id is remembered until their turn ends. */
const MAX_PENDING = 10_000;

export interface GatewayMetrics {
  book: MetricBook;
  /** Remembers which request sent a message, for the log line of its turn. */
  messageAccepted(messageId: string, requestId: string): void;
  turnEnded(turn: TurnEnd): void;
}

export function createGatewayMetrics(deps: {
  store: Store;
  logger: Logger;
  queueDepth: () => number;
  busySessions: () => number;
  clients: () => number;
}): GatewayMetrics {
  const book = createMetricBook();
  const turns = book.counter('autoclaw_gateway_turns_total', 'Turns finished, by the final status of the user message.');
  const latency = book.histogram('autoclaw_gateway_turn_duration_seconds', 'Time from a turn starting to its end.', [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
  const providerErrors = book.counter('autoclaw_gateway_provider_errors_total', 'Turns that failed with a provider error, by error code.');
  book.gauge('autoclaw_gateway_spend_usd', 'Provider spend recorded by this instance, in US dollars.', () => deps.store.usageSummary().costMicros / 1e6);
  book.gauge('autoclaw_gateway_queue_depth', 'Turns running or waiting.', deps.queueDepth);
  book.gauge('autoclaw_gateway_busy_sessions', 'Sessions with a turn running or waiting.', deps.busySessions);
  book.gauge('autoclaw_gateway_clients_connected', 'WebSocket clients connected.', deps.clients);
  const requestOf = new Map<string, string>();

  return {
    book,
    messageAccepted(messageId, requestId) {
      if (requestOf.size >= MAX_PENDING) {
        const oldest = requestOf.keys().next().value;
        if (oldest !== undefined) requestOf.delete(oldest);
      }
      requestOf.set(messageId, requestId);
    },
    turnEnded(turn) {
      turns.inc({ status: turn.status });
      latency.observe(turn.durationMs / 1000);
      if (turn.errorCode !== null && isProviderCode(turn.errorCode)) providerErrors.inc({ code: turn.errorCode });
      const requestId = requestOf.get(turn.messageId) ?? null;
      requestOf.delete(turn.messageId);
      deps.logger.info('turn finished', {
        requestId,
        sessionId: turn.sessionId,
        messageId: turn.messageId,
        status: turn.status,
        ms: turn.durationMs,
        ...(turn.errorCode === null ? {} : { code: turn.errorCode }),
      });
    },
  };
}
