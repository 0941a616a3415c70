/**
 * The desktop app's side of the manager UI (only when window.autoclaw
 * exists): native notifications for answers that finish while the window is
 * hidden, deep links, and the tray's "Sign out".
 */
import { useEffect, useRef } from 'react';
import type { AutoClawDesktopApi, DeepLink } from '../../preload/api';
import type { ChatState } from '../lib/chat-reducer';
import { useServices } from '../state/services';

/** Statuses of an answer still on its way. */
const UNFINISHED = new Set(['queued', 'running', 'streaming']);
const PREVIEW_CHARS = 200;

/** Assistant answers that went from unfinished to done between two snapshots of one session. */
export function finishedAnswers(before: ChatState | undefined, after: ChatState): Array<{ id: string; text: string }> {
  if (!before || before === after) return [];
  const out: Array<{ id: string; text: string }> = [];
  // Only the tail can change status; a long history is not scanned on every delta.
  for (const message of after.messages.slice(-8)) {
    if (message.role !== 'assistant' || message.status !== 'done') continue;
    const old = before.messages.find((m) => m.id === message.id);
    if (old && UNFINISHED.has(old.status)) out.push({ id: message.id, text: message.text });
  }
  return out;
}

/** Tells main about every answer that finishes while the window is hidden or unfocused; main decides what to show. */
export function useAnswerNotifications(desktop: AutoClawDesktopApi | null, isAway: () => boolean): void {
  const { chats } = useServices();
  const away = useRef(isAway);
  away.current = isAway;
  useEffect(() => {
    if (!desktop) return;
    return chats.subscribe((next, previous) => {
      if (!away.current()) return;
      for (const [sessionId, chat] of Object.entries(next.chats)) {
        for (const answer of finishedAnswers(previous.chats[sessionId], chat)) {
          void desktop
            .notifyAnswer({ sessionId, title: chat.session?.title || 'AutoClaw', preview: answer.text.slice(0, PREVIEW_CHARS) })
            .catch(() => undefined);
        }
      }
    });
  }, [desktop, chats]);
}

/** Deep links: `open` shows that conversation; `pair` asks for pairing again (the gateway address never comes from a link). */
export function useDeepLinks(desktop: AutoClawDesktopApi | null, onPair: () => void): void {
  const { ui } = useServices();
  const pair = useRef(onPair);
  pair.current = onPair;
  useEffect(() => {
    if (!desktop) return;
    return desktop.onDeepLink((link: DeepLink) => {
      if (link.kind === 'open') ui.getState().selectSession(link.sessionId);
      else pair.current();
    });
  }, [desktop, ui]);
}

/** The tray's "Sign out". */
export function useSignOutRequests(desktop: AutoClawDesktopApi | null, signOut: () => void): void {
  const run = useRef(signOut);
  run.current = signOut;
  useEffect(() => {
    if (!desktop) return;
    return desktop.onSignOutRequest(() => run.current());
  }, [desktop]);
}
