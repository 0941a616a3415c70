/**
 * Delivery of answers to the platform a turn came from. Follows every chat
 * event (the chat service's `watch`) and, for turns a channel started:
 * shows a typing indicator while the turn runs, streams the answer by
 * editing the platform message as it grows (throttled to the platform's edit
 * interval; soft — a failed edit is skipped), and queues what must arrive —
 * the answer as it ended, a failure's message, approval prompts, files the
 * agent wrote — in the outbound queue, which survives restarts.
 */
import { type ChatEvent, type Message, type ToolCall } from '@autoclaw/shared';
import type { ChatService, Logger } from '../agent';
import type { Store } from '../store';
import { isChannelClientId } from './client-id';
import { describe } from './isolation';
import type { Lanes } from './lanes';
import { limited, syncParts, withDeadline } from './outbox-worker';
import type { ChannelOutbox } from './outbox';
import type { ChannelAdapter, ConversationRef } from './types';

/** Tool calls whose finished output is a workspace file to send back: name → path in its input. */
const FILE_TOOLS: Record<string, string> = { workspace_write_file: 'path' };
const TERMINAL = new Set(['done', 'failed', 'interrupted', 'cancelled']);
const MIME_BY_EXT: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  pdf: 'application/pdf',
  gif: 'image/gif',
  webp: 'image/webp',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  amr: 'audio/amr',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  '3gp': 'video/3gpp',
  webm: 'video/webm',
  mov: 'video/quicktime',
};

interface Turn {
  channel: string;
  sessionId: string;
  route: string;
  replyTo: string | null;
  typing: NodeJS.Timeout | null;
  /** A part of this turn's answer reached the platform (typing is pointless now). */
  shown: boolean;
}

interface Stream {
  turn: Turn;
  messageId: string;
  text: string;
  lastEditAt: number;
  timer: NodeJS.Timeout | null;
  busy: boolean;
  dirty: boolean;
  ended: boolean;
}

/** A running channel as delivery sees it. */
export interface DeliverySink {
  adapter: ChannelAdapter;
  lanes: Lanes;
  signal: AbortSignal;
  editIntervalMs: number;
  within<T>(fn: () => Promise<T>): Promise<T>;
}

export interface ChannelDelivery {
  /** The inbound path set the session's conversation (a session may become a channel's). */
  remember(sessionId: string, conversation: { channel: string; route: string }): void;
  /** The route of the session's conversation, as stored (null: not a channel's). */
  routeOf(sessionId: string): string | null;
  attach(channel: string, sink: DeliverySink): void;
  detach(channel: string): void;
  /** Queues the answers a crash left undelivered (turns that ended in the last day). */
  reconcile(): number;
  close(): void;
  /** The waiting approval a reply command's code names, in this session. */
  approvalByCode(sessionId: string, code: string): string | null;
}

export function approvalCode(toolCallId: string): string {
  return toolCallId.replace(/^tc_/, '').replace(/[^A-Za-z0-9]/g, '').slice(0, 6).toLowerCase();
}

function mimeOf(path: string): string {
  const ext = path.split('.').pop()?.toLowerCase() ?? '';
  return MIME_BY_EXT[ext] ?? 'application/octet-stream';
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function createDelivery(deps: { store: Store; chat: ChatService; outbox: ChannelOutbox; now: () => number; logger: Logger }): ChannelDelivery {
  const { store, outbox, now, logger } = deps;
  const sinks = new Map<string, DeliverySink>();
  /** sessionId → its conversation (null: not a channel session). Bounded. */
  const conversations = new Map<string, { channel: string; route: string } | null>();
  const turns = new Map<string, Turn>();
  const assistantTurn = new Map<string, Turn>();
  const streams = new Map<string, Stream>();
  const approvals = new Map<string, Map<string, string>>();

  const conversationOf = (sessionId: string) => {
    let known = conversations.get(sessionId);
    if (known === undefined) {
      if (conversations.size > 5_000) conversations.clear();
      known = store.getConversation(sessionId);
      conversations.set(sessionId, known);
    }
    return known;
  };

  const stopTyping = (turn: Turn) => {
    if (turn.typing) clearInterval(turn.typing);
    turn.typing = null;
  };

  const sendTyping = (turn: Turn) => {
    const sink = sinks.get(turn.channel);
    if (!sink?.adapter.sendTyping || turn.shown) return;
    const route = JSON.parse(turn.route) as ConversationRef;
    void withDeadline(sink.within(() => sink.adapter.sendTyping!(route, limited(sink.signal)))).catch((err: unknown) => {
      logger.warn({ channel: turn.channel, err: describe(err) }, 'typing indicator failed');
    });
  };

  const startTyping = (turn: Turn) => {
    const sink = sinks.get(turn.channel);
    if (!sink?.adapter.sendTyping) return;
    sendTyping(turn);
    const every = sink.adapter.limits.typingIntervalMs;
    if (every > 0) {
      turn.typing = setInterval(() => sendTyping(turn), every);
      turn.typing.unref();
    }
  };

  const flush = (stream: Stream) => {
    const sink = sinks.get(stream.turn.channel);
    if (!sink?.adapter.editText || stream.ended) return;
    if (stream.busy) {
      stream.dirty = true;
      return;
    }
    stream.busy = true;
    stream.dirty = false;
    const text = stream.text;
    const route = JSON.parse(stream.turn.route) as ConversationRef;
    void sink.lanes
      .run(stream.turn.sessionId, () =>
        stream.ended
          ? Promise.resolve()
          : withDeadline(sink.within(() => syncParts({ store, adapter: sink.adapter, channel: stream.turn.channel, signal: sink.signal }, stream.messageId, route, text, stream.turn.replyTo ?? undefined))),
      )
      .then(
        () => {
          stream.turn.shown = true;
          stopTyping(stream.turn);
        },
        (err: unknown) => logger.warn({ channel: stream.turn.channel, err: describe(err) }, 'streaming edit failed; the final answer will catch up'),
      )
      .finally(() => {
        stream.lastEditAt = now();
        stream.busy = false;
        if (stream.dirty) schedule(stream);
      });
  };

  const schedule = (stream: Stream) => {
    const sink = sinks.get(stream.turn.channel);
    if (!sink?.adapter.editText || stream.ended || stream.timer !== null) return;
    if (stream.text.trim().length === 0) return;
    // The first piece goes out at once; edits follow at the platform's pace.
    const wait = stream.lastEditAt === 0 ? 0 : stream.lastEditAt + sink.editIntervalMs - now();
    if (wait <= 0 && !stream.busy) {
      flush(stream);
      return;
    }
    if (stream.busy) {
      stream.dirty = true;
      return;
    }
    stream.timer = setTimeout(() => {
      stream.timer = null;
      flush(stream);
    }, wait);
    stream.timer.unref();
  };

  const endStream = (messageId: string) => {
    const stream = streams.get(messageId);
    if (!stream) return;
    stream.ended = true;
    if (stream.timer) clearTimeout(stream.timer);
    streams.delete(messageId);
  };

  const onUser = (sessionId: string, conv: { channel: string; route: string }, message: Message) => {
    if (!isChannelClientId(message.clientId)) return;
    if (message.status === 'running') {
      const inbound = message.clientId ? store.getInbound(message.clientId) : null;
      const turn: Turn = { channel: conv.channel, sessionId, route: conv.route, replyTo: inbound?.replyTo ?? null, typing: null, shown: false };
      turns.set(message.id, turn);
      startTyping(turn);
      return;
    }
    if (!TERMINAL.has(message.status)) return;
    const turn = turns.get(message.id);
    if (turn) stopTyping(turn);
    turns.delete(message.id);
    for (const [assistantId, t] of assistantTurn) if (t === turn) assistantTurn.delete(assistantId);
    if (message.error && message.error.code !== 'CANCELLED' && (message.status === 'failed' || message.status === 'interrupted')) {
      outbox.enqueueText(conv.channel, sessionId, `error:${message.id}:${message.updatedAt}`, conv.route, {
        text: `⚠️ ${message.error.message}`,
        ...(turn?.replyTo ? { replyTo: turn.replyTo } : {}),
      });
    }
  };

  const onAssistant = (message: Message) => {
    const turn = message.turnId === null ? undefined : turns.get(message.turnId);
    if (!turn) return;
    assistantTurn.set(message.id, turn);
    if (message.status === 'streaming') {
      if (!streams.has(message.id)) {
        streams.set(message.id, { turn, messageId: message.id, text: message.text, lastEditAt: 0, timer: null, busy: false, dirty: false, ended: false });
      }
      return;
    }
    if (!TERMINAL.has(message.status)) return;
    endStream(message.id);
    if (message.text.trim().length > 0) outbox.enqueueFinal(turn.channel, turn.sessionId, turn.route, message, turn.replyTo);
  };

  const onTool = (sessionId: string, call: ToolCall) => {
    const turn = assistantTurn.get(call.messageId);
    if (!turn) return;
    const pending = approvals.get(sessionId) ?? new Map<string, string>();
    const code = approvalCode(call.id);
    if (call.status === 'awaiting_approval') {
      pending.set(code, call.id);
      approvals.set(sessionId, pending);
      outbox.enqueueApproval(turn.channel, sessionId, turn.route, {
        toolCallId: call.id,
        code,
        title: `Allow ${call.name}?`,
        detail: shorten(call.input, 600),
      });
      return;
    }
    pending.delete(code);
    if (pending.size === 0) approvals.delete(sessionId);
    const pathKey = FILE_TOOLS[call.name];
    if (call.status === 'done' && pathKey) {
      try {
        const path = (JSON.parse(call.input) as Record<string, unknown>)[pathKey];
        if (typeof path === 'string' && path.length > 0) {
          const normalized = path.replace(/^\/+/, '');
          outbox.enqueueFile(turn.channel, sessionId, turn.route, call.id, {
            path: normalized,
            name: normalized.split('/').pop() ?? normalized,
            mimeType: mimeOf(normalized),
          });
        }
      } catch {
        // An input that is not JSON wrote no file we could name.
      }
    }
  };

  const unwatch = deps.chat.watch((sessionId, event: ChatEvent) => {
    const conv = conversationOf(sessionId);
    if (!conv) return;
    switch (event.type) {
      case 'message':
        if (event.message.role === 'user') onUser(sessionId, conv, event.message);
        else onAssistant(event.message);
        return;
      case 'delta': {
        const stream = streams.get(event.messageId);
        if (!stream || event.offset !== stream.text.length) return;
        stream.text += event.text;
        schedule(stream);
        return;
      }
      case 'tool':
        onTool(sessionId, event.toolCall);
        return;
      case 'deleted':
        conversations.delete(sessionId);
        approvals.delete(sessionId);
        return;
      default:
        return;
    }
  });

  return {
    remember(sessionId, conversation) {
      conversations.set(sessionId, conversation);
    },
    routeOf: (sessionId) => conversationOf(sessionId)?.route ?? null,
    attach(channel, sink) {
      sinks.set(channel, sink);
    },
    detach(channel) {
      sinks.delete(channel);
      for (const turn of turns.values()) if (turn.channel === channel) stopTyping(turn);
    },
    reconcile() {
      const since = now() - 24 * 60 * 60 * 1000;
      let queued = 0;
      for (const message of store.undeliveredAnswers(since)) {
        const conv = store.getConversation(message.sessionId);
        const user = message.turnId ? store.getMessage(message.turnId) : null;
        if (!conv || !user?.clientId) continue;
        const replyTo = store.getInbound(user.clientId)?.replyTo ?? null;
        outbox.enqueueFinal(conv.channel, message.sessionId, conv.route, message, replyTo);
        queued += 1;
      }
      return queued;
    },
    approvalByCode(sessionId, code) {
      return approvals.get(sessionId)?.get(code.toLowerCase()) ?? null;
    },
    close() {
      unwatch();
      for (const turn of turns.values()) stopTyping(turn);
      for (const id of [...streams.keys()]) endStream(id);
      turns.clear();
      assistantTurn.clear();
      sinks.clear();
    },
  };
}
