/**
 * The inbound path of every channel: a platform message becomes one user
 * message of the conversation's session — through the same store and queue
 * as WebChat — after the access policy let it in. Resolves only after the
 * commit, so the adapter acknowledges the platform after it.
 */
import { LIMITS, type ChannelName, type ChannelSettingKey } from '@autoclaw/shared';
import type { ChatService } from '../agent';
import type { Store } from '../store';
import { decideAccess, newPairingCode, PAIRING_TTL_MS } from './access';
import { saveAttachments } from './attachments';
import { channelClientId, sessionNameOf } from './client-id';
import type { ChannelOutbox } from './outbox';
import type { ConversationRef, InboundMessage, ReceiveResult } from './types';

export interface InboundDeps {
  store: Store;
  chat: ChatService;
  outbox: ChannelOutbox;
  workspaceDir: string;
  now: () => number;
  /** The approval a reply command names ("approve CODE"), answered for the session; false when none waits. */
  answerByCode(sessionId: string, code: string, approve: boolean): boolean;
  /** The conversation delivery knows for the session (null: none known). */
  knownRoute(sessionId: string): string | null;
  /** Tells delivery the session is this conversation's. */
  remember(sessionId: string, conversation: { channel: string; route: string }): void;
}

export interface InboundChannel {
  name: ChannelName;
  label: string;
  setting(key: ChannelSettingKey): string | null;
  signal: AbortSignal;
  redact(text: string): string;
}

const APPROVAL_COMMAND = /^\s*\/?(approve|deny)\s+([A-Za-z0-9_-]{4,24})\s*$/i;

function sessionTitle(label: string, message: InboundMessage): string {
  const who = message.conversation.kind === 'dm' ? message.sender.name : (message.conversationTitle ?? `group ${message.conversation.id}`);
  return `${label} · ${who}`.slice(0, LIMITS.sessionNameChars);
}

function routeOf(conversation: ConversationRef): string {
  const route: ConversationRef = { id: conversation.id, kind: conversation.kind };
  if (conversation.thread !== undefined) route.thread = conversation.thread;
  if (conversation.extra !== undefined) route.extra = conversation.extra;
  return JSON.stringify(route);
}

function clip(text: string): string {
  const max = LIMITS.messageChars - 200;
  return text.length > max ? `${text.slice(0, max)}\n[… the message was cut at ${max} characters]` : text;
}

export async function receiveInbound(deps: InboundDeps, ch: InboundChannel, message: InboundMessage): Promise<ReceiveResult> {
  const { store, chat } = deps;
  const clientId = channelClientId(ch.name, message.platformId);
  // A redelivery: nothing to check, fetch or store again.
  if (store.hasClientMessage(clientId)) return 'duplicate';
  const text = message.text.trim();
  const attachments = message.attachments ?? [];
  if (text.length === 0 && attachments.length === 0) return 'ignored';

  const access = decideAccess({ store, setting: ch.setting }, ch.name, message);
  if (access === 'ignore') return 'ignored';
  const route = routeOf(message.conversation);
  if (access === 'pair') {
    const at = deps.now();
    const { pairing } = store.addPairing(
      { channel: ch.name, senderId: message.sender.id, senderName: message.sender.name, code: newPairingCode(), route, expiresAt: at + PAIRING_TTL_MS },
      at,
    );
    // One message per code: a sender who writes again while it waits hears nothing new.
    deps.outbox.enqueueText(ch.name, null, `pairing:${ch.name}:${message.sender.id}:${pairing.code}`, route, {
      text:
        `Hi! This assistant is private. Your pairing code is ${pairing.code}.\n` +
        `Ask its owner to approve it (in the app under Channels, or with: autoclaw channels approve --data DIR ${ch.name} ${pairing.code}). ` +
        'It expires in one hour.',
    });
    return 'pairing';
  }

  const name = sessionNameOf(ch.name, message.conversation.kind, message.conversation.id, message.conversation.thread);
  let session = chat.ensureSession(name, { channel: ch.name });
  if (session.title === name) session = chat.renameSession(session.id, sessionTitle(ch.label, message));
  // Most messages come from a conversation known already: no write then.
  if (deps.knownRoute(session.id) !== route) {
    store.setConversation(session.id, ch.name, route);
    deps.remember(session.id, { channel: ch.name, route });
  }

  const command = APPROVAL_COMMAND.exec(text);
  if (command && attachments.length === 0) {
    const approve = (command[1] ?? '').toLowerCase() === 'approve';
    if (deps.answerByCode(session.id, command[2] ?? '', approve)) return 'command';
  }

  let body = text;
  let missing: string[] = [];
  if (attachments.length > 0) {
    const saved = await saveAttachments({
      workspaceDir: deps.workspaceDir,
      channel: ch.name,
      conversationId: message.conversation.id,
      platformId: message.platformId,
      attachments,
      signal: ch.signal,
      redact: ch.redact,
    });
    body = [text.length > 0 ? text : '(files only)', ...saved.mentions].join('\n');
    missing = saved.missing;
  }
  store.recordInbound({ clientId, channel: ch.name, platformId: message.platformId, sessionId: session.id, replyTo: message.replyTo ?? null });
  const result = chat.send({ sessionId: session.id, clientId, text: clip(body) });
  if (missing.length > 0 && !result.duplicate) {
    // The sender hears it from the channel itself, whatever the agent makes of the note in the text.
    const what = text.length > 0 ? 'Your message reached the assistant without it.' : 'Please send it again (or a smaller one).';
    deps.outbox.enqueueText(ch.name, session.id, `missing:${ch.name}:${message.platformId}`, route, {
      text: `I could not receive ${missing.length === 1 ? 'a file' : `${missing.length} files`} — ${missing.join('; ')}. ${what}`,
    });
  }
  return result.duplicate ? 'duplicate' : 'stored';
}
