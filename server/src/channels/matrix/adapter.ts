/**
 * Matrix through matrix-js-sdk: the client-server API's `/sync` long poll
 * (each response proves liveness), invitations joined, direct chats (two
 * members) and mentions in rooms answered (replies to the message), edits as
 * `m.replace` events, files through the media repository. Messages sent
 * while the gateway was down arrive in the first sync and are taken if newer
 * than the last one seen (dedupe makes replays harmless); a first start does
 * not answer old history. Encrypted rooms are not supported (no crypto is
 * loaded: it would cost memory on every gateway).
 */
import { readFile } from 'node:fs/promises';
import { ClientEvent, HttpApiEvent, MatrixError, RoomEvent, RoomMemberEvent, SyncState, createClient, type MatrixEvent, type Room } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { AppError } from '@autoclaw/shared';
import { createHttpClient, type HttpInit } from '../http-client';
import { platformError } from '../platform-error';
import type { ChannelAdapter, ChannelContext, ConversationRef } from '../types';

/** The message type clients show a file as: a picture, a video or audio inline, anything else as a file to download. */
function msgtypeOf(mimeType: string): 'm.image' | 'm.video' | 'm.audio' | 'm.file' {
  if (mimeType.startsWith('image/') && mimeType !== 'image/svg+xml') return 'm.image';
  if (mimeType.startsWith('video/')) return 'm.video';
  if (mimeType.startsWith('audio/')) return 'm.audio';
  return 'm.file';
}

export function matrixError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof MatrixError) {
    if (err.errcode === 'M_UNKNOWN_TOKEN' || err.errcode === 'M_MISSING_TOKEN' || err.httpStatus === 401) {
      return new AppError('UNAUTHORIZED', 'the homeserver refused the access token', { cause: err });
    }
    const retry = (err.data as { retry_after_ms?: number }).retry_after_ms;
    return platformError('Matrix', err.httpStatus ?? null, `${err.errcode ?? 'error'}: ${err.data.error ?? err.message}`, { ...(retry === undefined ? {} : { retryAfterMs: retry }), cause: err });
  }
  return platformError('Matrix', null, err instanceof Error ? err.message : String(err), { cause: err });
}

const quietLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild() {
    return quietLogger;
  },
};

export function createMatrixAdapter(ctx: ChannelContext): ChannelAdapter {
  // The SDK's sync and push-rule code log to the console through its root logger: silenced (ours get what matters).
  (sdkLogger as unknown as { setLevel(level: 'silent', persist: boolean): void }).setLevel('silent', false);
  const baseUrl = (ctx.setting('matrix.homeserverUrl') ?? '').replace(/\/+$/, '');
  const accessToken = ctx.setting('matrix.accessToken') ?? '';
  const pollMs = (ctx.tuning.pollTimeoutSec ?? 25) * 1000;
  const limit = ctx.tuning.livenessMs ?? pollMs + 15_000;
  const http = createHttpClient();
  const fetchFn = ((url: string, init: HttpInit) => http.fetch(url, init)) as unknown as typeof fetch;
  let client: ReturnType<typeof createClient> | null = null;
  let me = '';
  /** The newest message taken (server time): older ones in a first sync are history. */
  let watermark = Number(ctx.state.get('watermark') ?? 'NaN');
  let prepared = false;
  let initialNewest = 0;

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw matrixError(err);
    }
  };

  const isDirect = (room: Room) => room.getJoinedMemberCount() <= 2;

  const addressed = (room: Room, event: MatrixEvent): boolean => {
    const content = event.getContent();
    const mentions = (content['m.mentions'] as { user_ids?: string[] } | undefined)?.user_ids ?? [];
    if (mentions.includes(me)) return true;
    const replyTo = (content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: string } } | undefined)?.['m.in_reply_to']?.event_id;
    return replyTo !== undefined && room.findEventById(replyTo)?.getSender() === me;
  };

  /** Clients write a mention as the display name (or user id) and a colon in front of the text. */
  const withoutMention = (room: Room, body: string): string => {
    const names = [room.getMember(me)?.name, me].filter((n): n is string => !!n).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return body.replace(new RegExp(`^(${names.join('|')})[:,]?\\s*`, 'i'), '').trim();
  };

  const onMessage = async (event: MatrixEvent, room: Room) => {
    if (event.getType() !== 'm.room.message' || event.getSender() === me || event.isRedacted()) return;
    const content = event.getContent();
    if ((content['m.relates_to'] as { rel_type?: string } | undefined)?.rel_type === 'm.replace') return;
    const ts = event.getTs();
    if (!prepared) {
      // First sync: history, unless it came after the last message taken before.
      initialNewest = Math.max(initialNewest, ts);
      if (Number.isNaN(watermark) || ts <= watermark) return;
    }
    const direct = isDirect(room);
    const url = typeof content['url'] === 'string' ? content['url'] : null;
    const body = typeof content['body'] === 'string' ? content['body'] : '';
    const conversation: ConversationRef = { id: room.roomId, kind: direct ? 'dm' : 'group' };
    await ctx.receive({
      platformId: event.getId() ?? `${room.roomId}:${ts}`,
      conversation,
      ...(room.name && !direct ? { conversationTitle: room.name } : {}),
      sender: { id: event.getSender() ?? 'unknown', name: room.getMember(event.getSender() ?? '')?.name ?? event.getSender() ?? 'someone' },
      text: url ? (content['filename'] !== undefined && body !== content['filename'] ? body : '') : withoutMention(room, body),
      attachments: url
        ? [
            {
              name: String(content['filename'] ?? body ?? 'file'),
              ...((content['info'] as { mimetype?: string } | undefined)?.mimetype ? { mimeType: (content['info'] as { mimetype: string }).mimetype } : {}),
              async download(signal: AbortSignal) {
                const [server, mediaId] = url.replace(/^mxc:\/\//, '').split('/');
                const res = await http.fetch(`${baseUrl}/_matrix/client/v1/media/download/${server}/${mediaId}`, { headers: { authorization: `Bearer ${accessToken}` }, signal });
                if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
                return res.bytes();
              },
            },
          ]
        : [],
      addressed: direct || addressed(room, event),
      ...(direct ? {} : { replyTo: event.getId() ?? undefined }),
    });
    if (!(ts <= watermark)) {
      watermark = ts;
      ctx.state.set('watermark', String(ts));
    }
  };

  const threadOf = (to: ConversationRef, replyTo?: string): Record<string, unknown> => {
    if (to.thread) return { 'm.relates_to': { rel_type: 'm.thread', event_id: to.thread, is_falling_back: true, 'm.in_reply_to': { event_id: replyTo ?? to.thread } } };
    return replyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: replyTo } } } : {};
  };

  const need = () => {
    if (!client) throw new AppError('CONFLICT', 'Matrix is not connected');
    return client;
  };

  return {
    // Edits are events too: paced to stay clear of the homeserver's limits.
    limits: { maxTextChars: 16_000, editIntervalMs: 1_500, typingIntervalMs: 15_000 },

    async start() {
      const probe = createClient({ baseUrl, accessToken, fetchFn, logger: quietLogger });
      const who = await call(() => probe.whoami());
      me = who.user_id;
      const c = createClient({ baseUrl, accessToken, userId: me, deviceId: who.device_id ?? 'autoclaw', fetchFn, logger: quietLogger, timelineSupport: false });
      client = c;
      c.on(
        RoomEvent.Timeline,
        ctx.guard(async (event: MatrixEvent, room: Room | undefined, toStartOfTimeline: boolean | undefined) => {
          if (room && !toStartOfTimeline) await onMessage(event, room);
        }),
      );
      c.on(
        RoomMemberEvent.Membership,
        ctx.guard(async (_event: MatrixEvent, member: { userId: string; membership?: string; roomId: string }) => {
          if (member.userId === me && member.membership === 'invite') await call(() => c.joinRoom(member.roomId));
        }),
      );
      c.on(HttpApiEvent.SessionLoggedOut, ctx.guard(() => ctx.fail(new AppError('UNAUTHORIZED', 'the homeserver logged the access token out'))));
      const ready = new Promise<void>((resolve, reject) => {
        c.on(
          ClientEvent.Sync,
          ctx.guard((state: SyncState, _prev: SyncState | null, data?: { error?: unknown }) => {
            if (state === SyncState.Prepared) {
              prepared = true;
              if (Number.isNaN(watermark)) {
                watermark = initialNewest;
                ctx.state.set('watermark', String(watermark));
              }
              resolve();
            }
            // Each sync response, the first one included, is the homeserver answering.
            if (state === SyncState.Prepared || state === SyncState.Syncing) ctx.alive(limit);
            if (state === SyncState.Error && !prepared) reject(matrixError(data?.error));
          }),
        );
      });
      await call(() => c.startClient({ initialSyncLimit: 20, pollTimeout: pollMs, disablePresence: true, lazyLoadMembers: false }));
      await ready;
    },

    async stop() {
      client?.stopClient();
      client?.removeAllListeners();
      http.close();
    },

    async sendText(to, message) {
      const res = await call(() => need().sendMessage(to.id, { msgtype: 'm.text', body: message.text, ...threadOf(to, message.replyTo) } as never));
      return { id: res.event_id };
    },

    async editText(to, messageId, text) {
      await call(() =>
        need().sendMessage(to.id, {
          msgtype: 'm.text',
          body: `* ${text}`,
          'm.new_content': { msgtype: 'm.text', body: text },
          'm.relates_to': { rel_type: 'm.replace', event_id: messageId },
        } as never),
      );
    },

    async sendTyping(to) {
      await call(() => need().sendTyping(to.id, true, 20_000));
    },

    async sendFile(to, file) {
      const data = await readFile(file.path);
      const c = need();
      const upload = await call(() => c.uploadContent(data, { name: file.name, type: file.mimeType }));
      const res = await call(() =>
        c.sendMessage(to.id, { msgtype: msgtypeOf(file.mimeType), body: file.name, filename: file.name, url: upload.content_uri, info: { mimetype: file.mimeType, size: data.length }, ...threadOf(to) } as never),
      );
      return { id: res.event_id };
    },
  };
}
