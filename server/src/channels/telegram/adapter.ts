/**
 * Telegram through grammy. Long polling by default: our own loop of
 * `getUpdates` (offset + timeout) so that each update is stored before the
 * next call confirms it, every round that comes back proves liveness, and a
 * stop aborts the request in flight. With `telegram.webhookUrl` set, a
 * webhook at `<webhookUrl>/channels/telegram/webhook` checked by a secret
 * token, answered only after the update is stored; liveness then comes from
 * `getWebhookInfo`.
 */
import { stat } from 'node:fs/promises';
import { Bot, GrammyError, HttpError, InputFile, type ApiClientOptions } from 'grammy';
import type { Message, Update, User } from 'grammy/types';
import { AppError } from '@autoclaw/shared';
import { sameSecret, sleep, webhookSecret } from '../endpoint-kit';
import { createHttpClient, type HttpInit } from '../http-client';
import { platformError } from '../platform-error';
import type { ChannelAdapter, ChannelContext, ConversationRef, InboundAttachment } from '../types';

export const TELEGRAM_API_ROOT = 'https://api.telegram.org';
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** The largest photo the Bot API takes (sendPhoto); a larger picture goes as a document. */
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;

type MediaMethod = 'sendPhoto' | 'sendVideo' | 'sendVoice' | 'sendAudio';

/** The Bot API method that shows a file as what it is (a photo, a video, a voice note, a track); null: a document. */
export function mediaMethodOf(mimeType: string, size: number): MediaMethod | null {
  if (mimeType === 'image/jpeg' || mimeType === 'image/png') return size <= PHOTO_MAX_BYTES ? 'sendPhoto' : null;
  if (mimeType === 'video/mp4') return 'sendVideo';
  if (mimeType === 'audio/ogg') return 'sendVoice';
  if (mimeType === 'audio/mpeg' || mimeType === 'audio/mp4') return 'sendAudio';
  return null;
}

/** An update whose handling failed this often is skipped (a poison update must not block the chat). */
const MAX_UPDATE_FAILURES = 3;

export function telegramError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof GrammyError) {
    const retry = err.parameters.retry_after;
    return platformError('Telegram', err.error_code, err.description, { ...(retry === undefined ? {} : { retryAfterMs: retry * 1000 }), cause: err });
  }
  if (err instanceof HttpError) return platformError('Telegram', null, err.message, { cause: err });
  return platformError('Telegram', null, err instanceof Error ? err.message : String(err), { cause: err });
}

function nameOf(user: User | undefined): string {
  if (!user) return 'someone';
  return [user.first_name, user.last_name].filter(Boolean).join(' ') || user.username || String(user.id);
}

/** grammy types its signals with the abort-controller polyfill's class; Node's own AbortSignal is what it gets at run time. */
type TgSignal = NonNullable<Parameters<Bot['api']['getMe']>[0]>;
const tg = (s: AbortSignal): TgSignal => s as unknown as TgSignal;

export function createTelegramAdapter(ctx: ChannelContext): ChannelAdapter {
  const token = ctx.setting('telegram.botToken') ?? '';
  const apiRoot = (ctx.setting('telegram.apiRoot') ?? TELEGRAM_API_ROOT).replace(/\/+$/, '');
  const webhookUrl = ctx.setting('telegram.webhookUrl');
  const pollSec = ctx.tuning.pollTimeoutSec ?? 25;
  const livenessMs = ctx.tuning.livenessMs ?? pollSec * 1000 + 15_000;
  // grammy's default fetch (node-fetch) recognises abort signals by class name, which the
  // bundle's minifier renames, and Node's fetch costs ~35 MB: ours, on node:http.
  const http = createHttpClient();
  const fetch = ((url: string, init: HttpInit) => http.fetch(url, init)) as unknown as NonNullable<ApiClientOptions['fetch']>;
  const bot = new Bot(token, { client: { apiRoot, timeoutSeconds: pollSec + 20, fetch } });
  const { signal } = ctx;

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw telegramError(err);
    }
  };

  const download = (fileId: string) => async (abort: AbortSignal) => {
    const file = await call(() => bot.api.getFile(fileId, tg(abort)));
    if (!file.file_path) throw new Error('Telegram gave no file path');
    const res = await http.fetch(`${apiRoot}/file/bot${token}/${file.file_path}`, { signal: abort });
    if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
    return res.bytes();
  };

  const attachmentsOf = (m: Message): InboundAttachment[] => {
    const out: InboundAttachment[] = [];
    const photo = m.photo?.[m.photo.length - 1];
    if (photo) out.push({ name: 'photo.jpg', mimeType: 'image/jpeg', ...(photo.file_size ? { size: photo.file_size } : {}), download: download(photo.file_id) });
    for (const file of [m.document, m.audio, m.video, m.voice]) {
      if (!file) continue;
      const name = 'file_name' in file && file.file_name ? file.file_name : 'file';
      out.push({ name, ...(file.mime_type ? { mimeType: file.mime_type } : {}), ...(file.file_size ? { size: file.file_size } : {}), download: download(file.file_id) });
    }
    return out;
  };

  /** Mentioned by @username (or a text mention), or replied to. */
  const addressed = (m: Message, text: string): boolean => {
    const me = bot.botInfo;
    if (m.reply_to_message?.from?.id === me.id) return true;
    const entities = m.entities ?? m.caption_entities ?? [];
    return entities.some(
      (e) =>
        (e.type === 'mention' && text.slice(e.offset, e.offset + e.length).toLowerCase() === `@${me.username.toLowerCase()}`) ||
        (e.type === 'text_mention' && e.user.id === me.id),
    );
  };

  bot.on('message', async (c) => {
    const m = c.message;
    const raw = m.text ?? m.caption ?? '';
    const group = m.chat.type !== 'private';
    const conversation: ConversationRef = { id: String(m.chat.id), kind: group ? 'group' : 'dm' };
    if (m.is_topic_message && m.message_thread_id !== undefined) conversation.thread = String(m.message_thread_id);
    const text = raw.replace(new RegExp(`@${bot.botInfo.username}\\b`, 'gi'), '').trim();
    await ctx.receive({
      platformId: `${m.chat.id}:${m.message_id}`,
      conversation,
      ...('title' in m.chat && m.chat.title ? { conversationTitle: m.chat.title } : {}),
      sender: { id: String(m.from?.id ?? m.chat.id), name: nameOf(m.from) },
      text,
      attachments: attachmentsOf(m),
      addressed: !group || addressed(m, raw),
      ...(group ? { replyTo: String(m.message_id) } : {}),
    });
  });

  bot.on('callback_query:data', async (c) => {
    const match = /^ap:([A-Za-z0-9_-]+):([yn])$/.exec(c.callbackQuery.data);
    if (!match) {
      await c.answerCallbackQuery();
      return;
    }
    const approve = match[2] === 'y';
    const answered = await ctx.answerApproval(match[1] ?? '', approve, { id: String(c.from.id), name: nameOf(c.from) });
    await c.answerCallbackQuery({ text: answered ? (approve ? 'Approved' : 'Denied') : 'This is no longer waiting for an answer.' });
    const shown = c.callbackQuery.message;
    if (answered && shown && 'text' in shown && shown.text) {
      await c.editMessageText(`${shown.text}\n\n${approve ? '✅ Approved' : '❌ Denied'}`).catch(() => undefined);
    }
  });

  /** Handles one update; a poison update is skipped after a few tries instead of blocking the chat. */
  const handle = async (update: Update): Promise<void> => {
    try {
      await bot.handleUpdate(update);
      ctx.state.set('failing', null);
    } catch (err) {
      const [id, count] = (ctx.state.get('failing') ?? '').split(':');
      const failures = id === String(update.update_id) ? Number(count) + 1 : 1;
      if (failures >= MAX_UPDATE_FAILURES) {
        ctx.logger.error({ channel: 'telegram', updateId: update.update_id }, 'skipping an update that failed again and again');
        ctx.state.set('failing', null);
        return;
      }
      ctx.state.set('failing', `${update.update_id}:${failures}`);
      throw err instanceof Error && 'error' in err ? (err as { error: unknown }).error : err;
    }
  };

  const poll = async (): Promise<void> => {
    let offset = Number(ctx.state.get('offset') ?? '0') || 0;
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await bot.api.getUpdates({ offset, timeout: pollSec, allowed_updates: [...ALLOWED_UPDATES] }, tg(signal));
      } catch (err) {
        if (signal.aborted) return;
        const failure = telegramError(err);
        const wait = failure.details?.['retryAfterMs'];
        if (failure.code === 'RATE_LIMITED' && typeof wait === 'number') {
          ctx.alive();
          await sleep(wait, signal);
          continue;
        }
        ctx.fail(failure);
        return;
      }
      ctx.alive(livenessMs);
      for (const update of updates) {
        // Stored before the next getUpdates confirms it (offset past it).
        await handle(update);
        offset = update.update_id + 1;
      }
      if (updates.length > 0) ctx.state.set('offset', String(offset));
    }
  };

  const serveWebhook = async (base: string): Promise<void> => {
    const expected = webhookSecret(ctx.state, 'webhookSecret');
    ctx.route('POST', '/webhook', async (req) => {
      if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], expected)) {
        return { status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'bad secret token' } } };
      }
      let update: Update;
      try {
        update = JSON.parse(req.body.toString('utf8')) as Update;
      } catch {
        return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'not JSON' } } };
      }
      // Answered after the update is stored: a failure makes Telegram deliver it again.
      await handle(update);
      ctx.alive();
      return { status: 200, body: { ok: true } };
    });
    await call(() => bot.api.setWebhook(`${base.replace(/\/+$/, '')}/channels/telegram/webhook`, { secret_token: expected, allowed_updates: [...ALLOWED_UPDATES] }, tg(signal)));
    const keepAlive = async () => {
      while (!signal.aborted) {
        await sleep(Math.max(1_000, Math.floor(livenessMs / 3)), signal);
        if (signal.aborted) return;
        try {
          await bot.api.getWebhookInfo(tg(signal));
          ctx.alive(livenessMs);
        } catch (err) {
          if (!signal.aborted) ctx.fail(telegramError(err));
          return;
        }
      }
    };
    void keepAlive();
  };

  const threadOf = (to: ConversationRef) => (to.thread === undefined ? {} : { message_thread_id: Number(to.thread) });

  return {
    limits: { maxTextChars: 4096, editIntervalMs: 1_000, typingIntervalMs: 4_500 },

    async start() {
      await call(() => bot.init(tg(signal)));
      ctx.alive(livenessMs);
      if (webhookUrl) {
        await serveWebhook(webhookUrl);
        return;
      }
      await call(() => bot.api.deleteWebhook({}, tg(signal)));
      void poll().catch((err: unknown) => ctx.fail(err));
    },

    async stop() {
      // Aborting the run's signal ended the poll; the kept-alive sockets go with the client.
      http.close();
    },

    async sendText(to, message, abort) {
      const sent = await call(() =>
        bot.api.sendMessage(
          Number(to.id),
          message.text,
          {
            ...threadOf(to),
            ...(message.replyTo ? { reply_parameters: { message_id: Number(message.replyTo), allow_sending_without_reply: true } } : {}),
          },
          tg(abort),
        ),
      );
      return { id: String(sent.message_id) };
    },

    async editText(to, messageId, text, abort) {
      try {
        await call(() => bot.api.editMessageText(Number(to.id), Number(messageId), text, {}, tg(abort)));
      } catch (err) {
        // The platform already shows exactly this text.
        if (AppError.is(err, 'BAD_REQUEST') && /not modified/i.test(err.message)) return;
        throw err;
      }
    },

    async sendTyping(to, abort) {
      await call(() => bot.api.sendChatAction(Number(to.id), 'typing', threadOf(to), tg(abort)));
    },

    async sendFile(to, file, abort) {
      const chat = Number(to.id);
      const extra = { ...threadOf(to), ...(file.caption ? { caption: file.caption } : {}) };
      const method = mediaMethodOf(file.mimeType, (await stat(file.path)).size);
      if (method) {
        try {
          const sent = await bot.api[method](chat, new InputFile(file.path, file.name), extra, tg(abort));
          return { id: String(sent.message_id) };
        } catch (err) {
          // Refused as media (a picture Telegram cannot read, say: 400 IMAGE_PROCESS_FAILED): the file still goes, as a document.
          if (!(err instanceof GrammyError && err.error_code === 400) || abort.aborted) throw telegramError(err);
        }
      }
      const sent = await call(() => bot.api.sendDocument(chat, new InputFile(file.path, file.name), extra, tg(abort)));
      return { id: String(sent.message_id) };
    },

    async sendApproval(to, prompt, abort) {
      const sent = await call(() =>
        bot.api.sendMessage(
          Number(to.id),
          `${prompt.title}\n${prompt.detail}`,
          {
            ...threadOf(to),
            reply_markup: {
              inline_keyboard: [
                [
                  { text: 'Approve', callback_data: `ap:${prompt.toolCallId}:y` },
                  { text: 'Deny', callback_data: `ap:${prompt.toolCallId}:n` },
                ],
              ],
            },
          },
          tg(abort),
        ),
      );
      return { id: String(sent.message_id) };
    },
  };
}
