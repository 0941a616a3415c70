/**
 * Every provider call passes the budget gate: before the request leaves, its
 * worst case (prompt tokens bounded from above + the call's max_tokens,
 * priced by the table) is held by the store's budget book, which refuses it
 * with BUDGET_EXCEEDED when a cap would be passed — then nothing is sent. The
 * decision takes no commit; the hold's row is in the file (one batched commit
 * for every call of the tick) before the request leaves. The call's usage
 * settles the hold, and its usage row is committed before the usage event
 * goes on (so before the answer is done); a call that ends without usage releases it. Each attempt
 * of the retry policy is its own call. When the spend passes the soft line,
 * one notice per period tells the user.
 */
import { AppError, costMicros, formatModelRef, priceFor, usdLabel, type ModelRef, type NoticeSink, type TokenUsage } from '@autoclaw/shared';
import type { SoftLine, Store } from '../store';
import type { Logger } from './logger';
import type { Provider, ProviderContent, ProviderEvent, ProviderMessage, ProviderRequest, ToolSpec } from './providers';

/** Who a call is for, recorded with its usage. */
export interface CallMeter {
  sessionId: string;
  /** The assistant message the call writes; null for a context summary. */
  messageId: string | null;
  channel: string;
  /** The tools whose results the call reads, names joined by "," (null: none). */
  tool: string | null;
}

export interface WorstCase {
  promptTokens: number;
  /** Prompt + max output tokens. */
  tokens: number;
  /** null for an unpriced model. */
  micros: number | null;
}

/**
 * Room for what the provider adds to a request (its tool-use system text,
 * message framing). Generous: a reservation is only held while the call runs.
 */
const REQUEST_OVERHEAD_TOKENS = 1_024;
const PER_MESSAGE_TOKENS = 8;

const toolSpecBytes = new WeakMap<readonly ToolSpec[], number>();
/** Bytes of a content array; the context hands out the same arrays for settled messages turn after turn (history.ts MessageMemo). */
const partBytes = new WeakMap<readonly ProviderContent[], number>();

function bytesOf(parts: readonly ProviderContent[]): number {
  let bytes = partBytes.get(parts);
  if (bytes !== undefined) return bytes;
  bytes = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as ProviderContent;
    if (part.type === 'text') bytes += Buffer.byteLength(part.text, 'utf8');
    else if (part.type === 'tool_result') bytes += Buffer.byteLength(part.content, 'utf8') + PER_MESSAGE_TOKENS;
    else bytes += Buffer.byteLength(part.name, 'utf8') + Buffer.byteLength(JSON.stringify(part.input ?? {}), 'utf8') + PER_MESSAGE_TOKENS;
  }
  partBytes.set(parts, bytes);
  return bytes;
}

/** Bytes of a message with its framing: the context hands out the same (never changed) messages for a session's settled past (agent/settled-past.ts). */
const messageBytes = new WeakMap<ProviderMessage, number>();

function contentBytes(messages: readonly ProviderMessage[]): number {
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProviderMessage;
    let own = messageBytes.get(message);
    if (own === undefined) {
      own = PER_MESSAGE_TOKENS + bytesOf(message.content);
      messageBytes.set(message, own);
    }
    bytes += own;
  }
  return bytes;
}

/**
 * The most a request can cost. Prompt tokens are bounded by the request's
 * UTF-8 bytes: the tokenizers of the providers we price never make a token
 * of less than one byte. Each prompt token is priced at the dearest input
 * rate (a cache write costs more than plain input).
 */
export function worstCase(model: ModelRef, request: ProviderRequest): WorstCase {
  let specs = toolSpecBytes.get(request.tools);
  if (specs === undefined) {
    specs = Buffer.byteLength(JSON.stringify(request.tools), 'utf8');
    toolSpecBytes.set(request.tools, specs);
  }
  const promptTokens = REQUEST_OVERHEAD_TOKENS + Buffer.byteLength(request.system, 'utf8') + specs + contentBytes(request.messages);
  const price = priceFor(model.provider, model.model);
  const micros =
    price === null ? null : Math.ceil(promptTokens * Math.max(price.input, price.cacheWrite, price.cacheRead) + request.maxTokens * price.output);
  return { promptTokens, tokens: promptTokens + request.maxTokens, micros };
}

export interface BudgetGateDeps {
  store: Store;
  /** Where soft-line warnings go (absent: none are sent). */
  notices?: NoticeSink | undefined;
  /** This process: reservations carry it (and are cleared at the next start). */
  bootId: string;
  logger: Logger;
}

const usd = usdLabel;

export class BudgetGate {
  readonly #deps: BudgetGateDeps;
  /** Soft lines already announced by this process (the store's notice key keeps it once-only across restarts too). */
  readonly #announced = new Set<string>();

  constructor(deps: BudgetGateDeps) {
    this.#deps = deps;
  }

  /** `provider`, with every call reserved before it is sent and settled by its usage. */
  guard(provider: Provider, model: ModelRef, meter: CallMeter): Provider {
    return { id: provider.id, stream: (request) => this.#metered(provider, model, meter, request) };
  }

  /**
   * The check before a call: its worst case, decided and held in memory
   * (throws BUDGET_EXCEEDED, nothing held). The hold's row is written by the
   * batched write that `#metered` awaits before the request leaves.
   */
  reserve(model: ModelRef, meter: CallMeter, request: ProviderRequest): number {
    const worst = worstCase(model, request);
    return this.#deps.store.holdBudget({ bootId: this.#deps.bootId, sessionId: meter.sessionId, micros: worst.micros, tokens: worst.tokens });
  }

  /** The call's usage settles its reservation (in memory; the row follows in the next commit); soft lines are announced. */
  settle(reservation: number, model: ModelRef, meter: CallMeter, usage: TokenUsage): void {
    const lines = this.#deps.store.settleBudget({
      sessionId: meter.sessionId,
      messageId: meter.messageId,
      provider: model.provider,
      model: model.model,
      usage,
      costMicros: costMicros(model.provider, model.model, usage),
      channel: meter.channel,
      tool: meter.tool,
      reservationId: reservation,
    });
    for (const line of lines) this.#announce(line);
  }

  async *#metered(provider: Provider, model: ModelRef, meter: CallMeter, request: ProviderRequest): AsyncGenerator<ProviderEvent> {
    const { store, logger } = this.#deps;
    // Throws BUDGET_EXCEEDED before anything is sent.
    const reservation = this.reserve(model, meter, request);
    let settled = false;
    try {
      // The reservation is in the file before the request leaves (one commit for every hold of this tick).
      await store.budgetDurable();
      for await (const event of provider.stream(request)) {
        if (event.type === 'usage' && !settled) {
          this.settle(reservation, model, meter, event.usage);
          settled = true;
          // The usage row is in the file before anyone hears of it (the answer is marked done after
          // this): a kill -9 from here on loses no spent money. One commit for every call settled in this tick.
          await store.budgetDurable();
        }
        yield event;
      }
    } finally {
      if (!settled) {
        try {
          store.releaseBudget(reservation);
        } catch (err) {
          // Left behind, it is cleared at the next start; until then it only holds room.
          logger.warn({ model: formatModelRef(model), code: err instanceof AppError ? err.code : 'INTERNAL' }, 'could not release a budget reservation');
        }
      }
    }
  }

  #announce(line: SoftLine): void {
    const sink = this.#deps.notices;
    const key = `budget:soft:${line.cap}:${line.period}`;
    if (!sink || this.#announced.has(key)) return;
    if (this.#announced.size > 64) this.#announced.clear();
    this.#announced.add(key);
    const when = line.cap === 'daily' ? 'today' : 'this month';
    const whose = line.source === 'plan' ? `your plan's ${line.cap} limit` : `your ${line.cap} budget`;
    try {
      sink.publish({
        kind: 'budget',
        level: 'warning',
        title: `${line.percent}% of ${whose} used`,
        body:
          `${usd(line.spentMicros)} of ${usd(line.limitMicros)} spent ${when} (${line.timeZone}). ` +
          (line.source === 'plan'
            ? 'Answers stop at the limit.'
            : `Answers stop at the cap; raise it under Costs → Budget.`),
        key,
      });
    } catch (err) {
      this.#deps.logger.warn({ code: err instanceof AppError ? err.code : 'INTERNAL' }, 'could not publish the budget notice');
    }
  }
}
