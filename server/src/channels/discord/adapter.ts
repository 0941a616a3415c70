/**
 * Discord through discord.js's gateway client (@discordjs/ws — what the
 * discord.js Client runs on): HELLO, IDENTIFY, heartbeats, zombie detection
 * and RESUME after a cut are the SDK's; the channel reads DMs and mentions
 * from MESSAGE_CREATE and button presses from INTERACTION_CREATE. Answers go
 * through Discord's REST API (rest.ts). The full discord.js Client (its
 * cached structures, undici and Node's fetch stack) costs ~23 MB per idle
 * gateway; the budget is ~20 MB for all channels.
 *
 * Liveness is the gateway's heartbeat ACKs against a limit derived from the
 * interval HELLO gave (three intervals and two seconds): discord.js resumes a
 * short cut within that by itself.
 */
import { readFile } from 'node:fs/promises';
import { WebSocketManager, WebSocketShardEvents, type SessionInfo } from '@discordjs/ws';
import {
  ButtonStyle,
  ComponentType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  Routes,
  type APIChannel,
  type APIMessage,
  type GatewayDispatchPayload,
  type GatewayInteractionCreateDispatchData,
  type GatewayMessageCreateDispatchData,
} from 'discord-api-types/v10';
import { AppError } from '@autoclaw/shared';
import { createHttpClient } from '../http-client';
import type { ChannelAdapter, ChannelContext, ConversationRef } from '../types';
import { createDiscordRest } from './rest';

export const DISCORD_API_ROOT = 'https://discord.com/api';

/** How long without a heartbeat ACK: three intervals and a bit (discord.js resumes a short cut within that). */
export const livenessOf = (intervalMs: number) => intervalMs * 3 + 2_000;

/** Close codes after which reconnecting cannot help: the owner must act. */
const FATAL_CLOSES: Record<number, AppError> = {
  4004: new AppError('UNAUTHORIZED', 'Discord refused the bot token'),
  4013: new AppError('BAD_REQUEST', 'Discord refused the gateway intents'),
  4014: new AppError('FORBIDDEN', 'Discord refused the privileged intents: turn on Message Content Intent for the bot'),
};

export function createDiscordAdapter(ctx: ChannelContext): ChannelAdapter {
  const token = ctx.setting('discord.token') ?? '';
  const apiRoot = ctx.setting('discord.apiRoot') ?? DISCORD_API_ROOT;
  const http = createHttpClient();
  const rest = createDiscordRest({ apiRoot, token, http, now: ctx.now });
  const channelNames = new Map<string, string | null>();
  let me = '';
  let limit = ctx.tuning.livenessMs;
  // Each run is a new session: a restarted channel identifies afresh (a short cut inside a run is resumed).
  let session: SessionInfo | null = null;

  const manager = new WebSocketManager({
    token,
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages | GatewayIntentBits.MessageContent,
    // Only `get(Routes.gatewayBot())` is used by the gateway client.
    rest: { get: (route: string) => rest.get(route, ctx.signal) } as unknown as ConstructorParameters<typeof WebSocketManager>[0]['rest'],
    retrieveSessionInfo: () => session,
    updateSessionInfo: (_shardId, info) => {
      session = info;
    },
  });

  manager.on(
    WebSocketShardEvents.Debug,
    ctx.guard(({ message }: { message: string }) => {
      const beat = /starting to beat every (\d+)ms/.exec(message);
      if (!beat) return;
      limit = ctx.tuning.livenessMs ?? livenessOf(Number(beat[1]));
      ctx.livenessLimit(limit);
    }),
  );
  // Only an ACK proves the gateway alive: a HELLO or a RESUMED also come from a zombie connection.
  manager.on(WebSocketShardEvents.HeartbeatComplete, ctx.guard(() => ctx.alive(limit)));
  manager.on(WebSocketShardEvents.Error, ctx.guard(({ error }: { error: Error }) => ctx.fail(error)));
  manager.on(
    WebSocketShardEvents.Closed,
    ctx.guard(({ code }: { code: number }) => {
      const fatal = FATAL_CLOSES[code];
      if (fatal) ctx.fail(fatal);
    }),
  );

  const titleOf = async (channelId: string): Promise<string | undefined> => {
    if (!channelNames.has(channelId)) {
      const channel = await rest.get<APIChannel>(Routes.channel(channelId), ctx.signal).catch(() => null);
      channelNames.set(channelId, channel && 'name' in channel && channel.name ? `#${channel.name}` : null);
    }
    return channelNames.get(channelId) ?? undefined;
  };

  const onMessage = async (m: GatewayMessageCreateDispatchData) => {
    if (m.author.bot || m.author.id === me) return;
    const dm = m.guild_id === undefined;
    const addressed = m.mentions.some((u) => u.id === me) || m.referenced_message?.author.id === me;
    const conversation: ConversationRef = { id: m.channel_id, kind: dm ? 'dm' : 'group' };
    const title = dm || !addressed ? undefined : await titleOf(m.channel_id);
    await ctx.receive({
      platformId: m.id,
      conversation,
      ...(title ? { conversationTitle: title } : {}),
      sender: { id: m.author.id, name: m.author.global_name ?? m.author.username },
      text: m.content.replace(new RegExp(`<@!?${me}>`, 'g'), '').trim(),
      attachments: m.attachments.map((a) => ({
        name: a.filename,
        ...(a.content_type ? { mimeType: a.content_type } : {}),
        size: a.size,
        async download(signal: AbortSignal) {
          const res = await http.fetch(a.url, { signal });
          if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
          return res.bytes();
        },
      })),
      addressed: dm || addressed,
      ...(dm ? {} : { replyTo: m.id }),
    });
  };

  const onInteraction = async (i: GatewayInteractionCreateDispatchData) => {
    if (i.type !== InteractionType.MessageComponent) return;
    const match = /^ap:([A-Za-z0-9_-]+):([yn])$/.exec(i.data.custom_id);
    const user = i.member?.user ?? i.user;
    if (!match || !user) return;
    const approve = match[2] === 'y';
    const answered = await ctx.answerApproval(match[1] ?? '', approve, { id: user.id, name: user.global_name ?? user.username });
    const reply = answered
      ? { type: InteractionResponseType.UpdateMessage, data: { content: `${i.message.content}\n\n${approve ? '✅ Approved' : '❌ Denied'}`, components: [] } }
      : { type: InteractionResponseType.ChannelMessageWithSource, data: { content: 'This is no longer waiting for an answer.', flags: MessageFlags.Ephemeral } };
    await rest.post(Routes.interactionCallback(i.id, i.token), reply, { auth: false, signal: ctx.signal });
  };

  manager.on(
    WebSocketShardEvents.Dispatch,
    ctx.guard(async ({ data }: { data: GatewayDispatchPayload }) => {
      if (data.t === GatewayDispatchEvents.Ready) me = data.d.user.id;
      else if (data.t === GatewayDispatchEvents.MessageCreate) await onMessage(data.d);
      else if (data.t === GatewayDispatchEvents.InteractionCreate) await onInteraction(data.d);
    }),
  );

  const post = async (to: ConversationRef, body: Record<string, unknown>, signal: AbortSignal, files?: Array<{ name: string; data: Uint8Array }>) => {
    const created = await rest.post<APIMessage>(Routes.channelMessages(to.id), body, { signal, ...(files ? { files } : {}) });
    return { id: created.id };
  };

  return {
    limits: { maxTextChars: 2_000, editIntervalMs: 1_200, typingIntervalMs: 8_000 },

    async start() {
      // Resolves once the shard is READY: the platform accepted the token and intents.
      await manager.connect();
    },

    async stop() {
      await manager.destroy({ code: 1000, reason: 'stopping' });
      http.close();
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
      await rest.patch(Routes.channelMessage(to.id, messageId), { content: text, allowed_mentions: { parse: [] } }, signal);
    },

    async sendTyping(to, signal) {
      await rest.post(Routes.channelTyping(to.id), undefined, { signal });
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
