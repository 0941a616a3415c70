/**
 * Discord through discord.js: the gateway (intents for guild messages, DMs
 * and message content) for what comes in, REST for what goes out. Liveness
 * is the gateway's own heartbeat ACKs (discord.js reports each one), against
 * a limit derived from the heartbeat interval HELLO gave; a short cut is
 * resumed by discord.js itself (RESUME replays what was missed). discord.js
 * honours REST rate limits (429, X-RateLimit-*) by waiting.
 */
import {
  ButtonStyle,
  ChannelType,
  Client,
  ComponentType,
  DiscordAPIError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  HTTPError,
  MessageFlags,
  Options,
  Partials,
  RateLimitError,
  Routes,
  type Message,
} from 'discord.js';
import { readFile } from 'node:fs/promises';
import { AppError } from '@autoclaw/shared';
import { platformError } from '../platform-error';
import type { ChannelAdapter, ChannelContext, ConversationRef } from '../types';

export const DISCORD_API_ROOT = 'https://discord.com/api';

export function discordError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof DiscordAPIError) return platformError('Discord', err.status, err.message, { cause: err });
  if (err instanceof HTTPError) return platformError('Discord', err.status, err.message, { cause: err });
  if (err instanceof RateLimitError) return platformError('Discord', 429, 'rate limited', { retryAfterMs: err.retryAfter, cause: err });
  if (err instanceof Error && (err as { code?: unknown }).code === DiscordjsErrorCodes.TokenInvalid) {
    return new AppError('UNAUTHORIZED', 'Discord refused the bot token', { cause: err });
  }
  return platformError('Discord', null, err instanceof Error ? err.message : String(err), { cause: err });
}

/** How long without a heartbeat ACK: three intervals and a bit (discord.js resumes a short cut within that). */
export const livenessOf = (intervalMs: number) => intervalMs * 3 + 2_000;

export function createDiscordAdapter(ctx: ChannelContext): ChannelAdapter {
  const token = ctx.setting('discord.token') ?? '';
  const apiRoot = (ctx.setting('discord.apiRoot') ?? DISCORD_API_ROOT).replace(/\/+$/, '');
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent],
    // DM channels arrive unknown to the cache.
    partials: [Partials.Channel],
    rest: { api: apiRoot, timeout: 30_000 },
    // A personal assistant needs few cached messages and members: memory is a per-user cost.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 5, GuildMemberManager: 20, PresenceManager: 0, ReactionManager: 0 }),
  });
  const limitFallback = ctx.tuning.livenessMs;

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw discordError(err);
    }
  };

  // Only an ACK proves the gateway alive: a HELLO or a RESUMED also come from a zombie connection.
  let limit = limitFallback;
  client.on(
    Events.Debug,
    ctx.guard((message: string) => {
      const beat = /starting to beat every (\d+)ms/.exec(message);
      if (beat) {
        limit = limitFallback ?? livenessOf(Number(beat[1]));
        ctx.livenessLimit(limit);
      } else if (message.includes('Heartbeat acknowledged')) ctx.alive(limit);
    }),
  );
  client.on(Events.Error, ctx.guard((err: Error) => ctx.fail(discordError(err))));
  client.on(Events.Invalidated, ctx.guard(() => ctx.fail(new AppError('UNAUTHORIZED', 'Discord invalidated the session'))));

  const addressed = (m: Message): boolean => {
    const me = client.user?.id;
    if (!me) return false;
    return m.mentions.users.has(me) || m.mentions.repliedUser?.id === me;
  };

  client.on(
    Events.MessageCreate,
    ctx.guard(async (m: Message) => {
      if (m.author.bot || m.author.id === client.user?.id) return;
      const dm = m.channel.type === ChannelType.DM || m.guildId === null;
      const me = client.user?.id ?? '';
      const text = m.content.replace(new RegExp(`<@!?${me}>`, 'g'), '').trim();
      const conversation: ConversationRef = { id: m.channelId, kind: dm ? 'dm' : 'group' };
      const title = !dm && 'name' in m.channel && typeof m.channel.name === 'string' ? `#${m.channel.name}` : undefined;
      await ctx.receive({
        platformId: m.id,
        conversation,
        ...(title ? { conversationTitle: title } : {}),
        sender: { id: m.author.id, name: m.author.globalName ?? m.author.username },
        text,
        attachments: [...m.attachments.values()].map((a) => ({
          name: a.name,
          ...(a.contentType ? { mimeType: a.contentType } : {}),
          size: a.size,
          async download(signal: AbortSignal) {
            const res = await fetch(a.url, { signal });
            if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
            return new Uint8Array(await res.arrayBuffer());
          },
        })),
        addressed: dm || addressed(m),
        ...(dm ? {} : { replyTo: m.id }),
      });
    }),
  );

  client.on(
    Events.InteractionCreate,
    ctx.guard(async (interaction) => {
      if (!interaction.isButton()) return;
      const match = /^ap:([A-Za-z0-9_-]+):([yn])$/.exec(interaction.customId);
      if (!match) return;
      const approve = match[2] === 'y';
      const answered = await ctx.answerApproval(match[1] ?? '', approve, { id: interaction.user.id, name: interaction.user.globalName ?? interaction.user.username });
      if (answered) {
        await interaction.update({ content: `${interaction.message.content}\n\n${approve ? '✅ Approved' : '❌ Denied'}`, components: [] });
      } else {
        await interaction.reply({ content: 'This is no longer waiting for an answer.', flags: MessageFlags.Ephemeral });
      }
    }),
  );

  const post = async (to: ConversationRef, body: Record<string, unknown>, signal: AbortSignal, files?: Array<{ name: string; data: Buffer }>) => {
    const created = (await call(() => client.rest.post(Routes.channelMessages(to.id), { body, ...(files ? { files } : {}), signal }))) as { id: string };
    return { id: created.id };
  };

  return {
    limits: { maxTextChars: 2_000, editIntervalMs: 1_200, typingIntervalMs: 8_000 },

    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await call(() => client.login(token));
      await ready;
    },

    async stop() {
      await client.destroy();
    },

    sendText: (to, message, signal) =>
      post(
        to,
        {
          content: message.text,
          allowed_mentions: { parse: [] },
          ...(message.replyTo ? { message_reference: { message_id: message.replyTo, fail_if_not_exists: false } } : {}),
        },
        signal,
      ),

    async editText(to, messageId, text, signal) {
      await call(() => client.rest.patch(Routes.channelMessage(to.id, messageId), { body: { content: text, allowed_mentions: { parse: [] } }, signal }));
    },

    async sendTyping(to, signal) {
      await call(() => client.rest.post(Routes.channelTyping(to.id), { signal }));
    },

    async sendFile(to, file, signal) {
      const data = await readFile(file.path);
      return post(to, { content: file.caption ?? '', attachments: [{ id: 0, filename: file.name }] }, signal, [{ name: file.name, data }]);
    },

    sendApproval: (to, prompt, signal) =>
      post(
        to,
        {
          content: `${prompt.title}\n${prompt.detail}`,
          allowed_mentions: { parse: [] },
          components: [
            {
              type: ComponentType.ActionRow,
              components: [
                { type: ComponentType.Button, style: ButtonStyle.Success, label: 'Approve', custom_id: `ap:${prompt.toolCallId}:y` },
                { type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Deny', custom_id: `ap:${prompt.toolCallId}:n` },
              ],
            },
          ],
        },
        signal,
      ),
  };
}
