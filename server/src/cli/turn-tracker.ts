/**
 * Follows one turn in a session's event stream and prints its answer as it
 * streams: the assistant messages whose `turnId` is the user message sent.
 * Deltas carry offsets: text is printed once even when events repeat, and a
 * full `message` upsert fills in anything a delta did not bring.
 */
import type { ChatEvent, ErrorInfo, Message, MessageStatus } from '@autoclaw/shared';

export interface TurnOutcome {
  status: MessageStatus;
  error: ErrorInfo | null;
}

const TERMINAL: ReadonlySet<MessageStatus> = new Set(['done', 'failed', 'interrupted', 'cancelled']);

export class TurnTracker {
  readonly outcome: Promise<TurnOutcome>;
  private resolve: (o: TurnOutcome) => void = () => {};
  private turnId: string | null = null;
  private pending: ChatEvent[] = [];
  private readonly ownerOf = new Map<string, string | null>();
  private readonly printed = new Map<string, number>();
  private lastPrinted: string | null = null;
  private endsWithNewline = true;
  private finished = false;
  private lastError: ErrorInfo | null = null;

  constructor(
    private readonly write: (text: string) => void,
    private readonly note: (line: string) => void,
  ) {
    this.outcome = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** The user message the turn belongs to (from chat.send); replays what arrived before. */
  setTurn(message: Message): void {
    this.turnId = message.id;
    const early = this.pending;
    this.pending = [];
    this.onUserMessage(message);
    for (const ev of early) this.apply(ev);
  }

  handle(ev: ChatEvent): void {
    if (this.turnId === null) this.pending.push(ev);
    else this.apply(ev);
  }

  private apply(ev: ChatEvent): void {
    if (this.finished) return;
    switch (ev.type) {
      case 'sync':
        // Answers before questions: a snapshot taken after the turn ended holds its
        // user message as done, which must not end the turn before its answer is printed.
        for (const m of ev.messages) if (m.role !== 'user') this.onMessage(m);
        for (const m of ev.messages) if (m.role === 'user') this.onMessage(m);
        break;
      case 'message':
        this.onMessage(ev.message);
        break;
      case 'delta':
        this.print(ev.messageId, ev.offset, ev.text);
        break;
      case 'tool':
        if (this.owned(ev.toolCall.messageId) && ev.toolCall.status === 'awaiting_approval') {
          this.note(`tool ${ev.toolCall.name} is waiting for approval (approve it in WebChat)`);
        }
        break;
      case 'session':
        break;
      case 'deleted':
        this.finish({ status: 'cancelled', error: { code: 'NOT_FOUND', message: 'the session was deleted' } });
        break;
    }
  }

  private owned(messageId: string): boolean {
    return this.turnId !== null && this.ownerOf.get(messageId) === this.turnId;
  }

  private onMessage(m: Message): void {
    if (m.role === 'user') {
      if (m.id === this.turnId) this.onUserMessage(m);
      return;
    }
    this.ownerOf.set(m.id, m.turnId);
    if (!this.owned(m.id)) return;
    if (m.error) this.lastError = m.error;
    this.print(m.id, 0, m.text);
  }

  private onUserMessage(m: Message): void {
    if (TERMINAL.has(m.status)) this.finish({ status: m.status, error: m.error ?? this.lastError });
  }

  private print(messageId: string, offset: number, text: string): void {
    if (!this.owned(messageId)) return;
    const done = this.printed.get(messageId) ?? 0;
    if (offset > done || offset + text.length <= done) return;
    const fresh = text.slice(done - offset);
    if (fresh.length === 0) return;
    if (this.lastPrinted !== null && this.lastPrinted !== messageId) this.write(this.endsWithNewline ? '\n' : '\n\n');
    this.write(fresh);
    this.printed.set(messageId, done + fresh.length);
    this.lastPrinted = messageId;
    this.endsWithNewline = fresh.endsWith('\n');
  }

  private finish(outcome: TurnOutcome): void {
    if (this.finished) return;
    this.finished = true;
    if (this.lastPrinted !== null && !this.endsWithNewline) this.write('\n');
    this.resolve(outcome);
  }
}
