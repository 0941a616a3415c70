import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { EMPTY_CHAT, isBusy } from '../lib/chat-reducer';
import { useChatActions } from '../hooks/use-chat-actions';
import { useChatEvents } from '../hooks/use-chat-events';
import { useSessionOutbox } from '../hooks/use-outbox';
import { useSessions } from '../hooks/use-sessions';
import { useChats, useUi } from '../state/services';
import { describeError } from '../lib/client-error';
import { Composer } from './composer';
import { MessageItem } from './message-item';
import { OutboxItemView } from './outbox-item-view';

/** Keeps the newest message in view unless the user scrolled up to read. */
function useStickToBottom(contentKey: string) {
  const ref = useRef<HTMLDivElement>(null);
  const stuck = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stuck.current) el.scrollTop = el.scrollHeight;
  }, [contentKey]);
  const onScroll = () => {
    const el = ref.current;
    if (el) stuck.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };
  return { ref, onScroll };
}

export function ChatView() {
  const sessionId = useUi((s) => s.activeSessionId);
  const selectSession = useUi((s) => s.selectSession);
  useChatEvents(sessionId);
  const chat = useChats((s) => (sessionId ? s.chats[sessionId] : undefined)) ?? EMPTY_CHAT;
  const streamError = useChats((s) => (sessionId ? s.streamErrors[sessionId] : undefined));
  const sessions = useSessions();
  const outboxItems = useSessionOutbox(sessionId);
  const actions = useChatActions(sessionId);
  const busy = isBusy(chat);

  // Stored messages win over their outbox copies (the event may beat the acknowledgement).
  const pending = useMemo(() => {
    const stored = new Set(chat.messages.map((m) => m.clientId).filter((id): id is string => id !== null));
    return outboxItems.filter((item) => !stored.has(item.clientId));
  }, [chat.messages, outboxItems]);

  const gone = chat.deleted || streamError?.code === 'NOT_FOUND';
  useEffect(() => {
    if (!gone || !sessionId) return;
    const next = sessions.sessions.find((s) => s.id !== sessionId);
    selectSession(next?.id ?? null);
  }, [gone, sessionId, sessions.sessions, selectSession]);

  // Esc stops the running turn from anywhere on the page.
  const cancel = actions.cancel;
  useEffect(() => {
    if (!busy) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) cancel.mutate();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [busy, cancel]);

  const lastText = chat.messages.at(-1)?.text.length ?? 0;
  const scroller = useStickToBottom(`${sessionId}:${chat.messages.length}:${lastText}:${pending.length}`);
  const title = chat.session?.title || chat.session?.name || (sessionId ? 'Conversation' : 'New conversation');
  const actionError = [actions.cancel, actions.retry, actions.approve, actions.deleteMessage].find((m) => m.isError)?.error;

  return (
    <section className="chat" aria-label="Chat">
      <header className="chat-header">
        <h1>{title}</h1>
      </header>
      <div className="messages" ref={scroller.ref} onScroll={scroller.onScroll} role="log" aria-label="Messages" aria-live="off">
        {streamError && streamError.code !== 'NOT_FOUND' && (
          <p className="notice error" role="alert">
            Live updates stopped: {streamError.message}
          </p>
        )}
        {sessionId && !chat.synced && !streamError && <p className="muted centered-text">Loading messages…</p>}
        {chat.synced && chat.messages.length === 0 && pending.length === 0 && (
          <p className="empty centered-text">No messages yet. Say hello!</p>
        )}
        {!sessionId && pending.length === 0 && (
          <p className="empty centered-text">Start a conversation: type a message below, or pick one on the left.</p>
        )}
        {chat.messages.map((message) => (
          <MessageItem key={message.id} message={message} actions={actions} />
        ))}
        {pending.map((item) => (
          <OutboxItemView key={item.clientId} item={item} />
        ))}
      </div>
      {actionError && (
        <p className="notice error action-error" role="alert">
          {describeError(actionError).message}
        </p>
      )}
      <Composer sessionId={sessionId} busy={busy} stopping={actions.cancel.isPending} onStop={() => actions.cancel.mutate()} />
    </section>
  );
}
