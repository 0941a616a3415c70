/**
 * Microsoft Teams through the Bot Framework. The messaging endpoint is
 * `/channels/teams/messages` on the gateway: each activity's bearer JWT is
 * checked by botbuilder's JwtTokenExtractor (botframework-connector) against
 * the Bot Framework's OpenID metadata (`teams.openIdMetadataUrl`; keys
 * fetched and cached, endorsed for the channel): issuer, audience = the app
 * id, expiry, signature, and the token's `serviceurl` claim must be the
 * activity's. A refused activity is answered 401 and nothing is stored.
 * Answers go through the Bot Connector API at the validated serviceUrl with
 * an app token (connector.ts). The JWT validator loads with the first
 * activity, so an idle gateway does not carry it. Liveness: the metadata is
 * fetched every third of the limit (and each validated activity counts).
 */
import { readFile } from 'node:fs/promises';
import type { Activity } from 'botbuilder';
import type { JwtTokenExtractor } from 'botframework-connector/lib/auth/jwtTokenExtractor';
import { bearerOf, commonJs, jsonBody, refused, sleep } from '../endpoint-kit';
import { createHttpClient } from '../http-client';
import { platformError } from '../platform-error';
import type { ChannelAdapter, ChannelContext, ConversationRef, InboundAttachment } from '../types';
import { createConnector } from './connector';

const METADATA_URL = 'https://login.botframework.com/v1/.well-known/openidconfiguration';
const TOKEN_URL = 'https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token';
const ISSUER = 'https://api.botframework.com';
const ALGORITHMS = ['RS256', 'RS384', 'RS512'];
/** Inline files travel base64 inside the activity; the Bot Framework caps an activity's size. */
const INLINE_FILE_MAX_BYTES = 256 * 1024;
const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';

function withoutMentions(text: string): string {
  return text.replace(/<at>[^<]*<\/at>/g, ' ').replace(/\s+/g, ' ').trim();
}

export function createTeamsAdapter(ctx: ChannelContext): ChannelAdapter {
  const appId = ctx.setting('teams.appId') ?? '';
  const metadataUrl = ctx.setting('teams.openIdMetadataUrl') ?? METADATA_URL;
  const livenessMs = ctx.tuning.livenessMs ?? 300_000;
  const http = createHttpClient();
  const connector = createConnector({ http, appId, appPassword: ctx.setting('teams.appPassword') ?? '', tokenUrl: ctx.setting('teams.tokenUrl') ?? TOKEN_URL, now: ctx.now });
  const { signal } = ctx;
  let extractor: Promise<JwtTokenExtractor> | null = null;

  const validator = () =>
    (extractor ??= import('botframework-connector/lib/auth/jwtTokenExtractor').then(commonJs).then(
      ({ JwtTokenExtractor }) => new JwtTokenExtractor({ issuer: [ISSUER], audience: appId, clockTolerance: 300, ignoreExpiration: false }, metadataUrl, ALGORITHMS),
    ));

  /** Null when the activity may be trusted; else why not. */
  const authenticate = async (authorization: string | null, activity: Activity): Promise<{ status: number; why: string } | null> => {
    if (!authorization) return { status: 401, why: 'no bearer token' };
    try {
      const identity = await (await validator()).getIdentityFromAuthHeader(`Bearer ${authorization}`, activity.channelId);
      if (!identity?.isAuthenticated) return { status: 401, why: 'token refused' };
      // The token names the service the activity came through: its answers go there and nowhere else.
      if (identity.getClaimValue('serviceurl') !== activity.serviceUrl) return { status: 403, why: 'serviceUrl does not match the token' };
      return null;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      // The metadata could not be fetched: a server-side failure, so the Bot Framework delivers again.
      if (status === 500) return { status: 503, why: 'OpenID metadata unavailable' };
      return { status: 401, why: err instanceof Error ? err.message : 'token refused' };
    }
  };

  const attachmentsOf = (activity: Activity): InboundAttachment[] =>
    (activity.attachments ?? []).flatMap((a): InboundAttachment[] => {
      const info = a.content as { downloadUrl?: string; fileType?: string } | undefined;
      const url = a.contentType === FILE_DOWNLOAD_INFO ? info?.downloadUrl : a.contentType.startsWith('image/') ? a.contentUrl : undefined;
      if (!url || !/^https?:/.test(url)) return [];
      // A file's download URL is pre-authorized; an image's is the connector's and wants the app token.
      const needsToken = a.contentType !== FILE_DOWNLOAD_INFO;
      return [
        {
          name: a.name ?? 'file',
          ...(a.contentType !== FILE_DOWNLOAD_INFO ? { mimeType: a.contentType } : {}),
          async download(downloadSignal: AbortSignal) {
            const headers: Record<string, string> = needsToken ? { authorization: `Bearer ${await connector.token(downloadSignal)}` } : {};
            const res = await http.fetch(url, { headers, signal: downloadSignal });
            if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
            return res.bytes();
          },
        },
      ];
    });

  const onMessage = async (activity: Activity): Promise<void> => {
    const personal = activity.conversation.conversationType === 'personal' || activity.conversation.conversationType === undefined;
    const botId = activity.recipient?.id;
    const mentioned = (activity.entities ?? []).some((e) => e.type === 'mention' && (e as { mentioned?: { id?: string } }).mentioned?.id === botId);
    const conversation: ConversationRef = { id: activity.conversation.id, kind: personal ? 'dm' : 'group', extra: { serviceUrl: activity.serviceUrl } };
    const team = (activity.channelData as { team?: { name?: string } } | undefined)?.team?.name;
    await ctx.receive({
      platformId: activity.id ?? '',
      conversation,
      ...(!personal && (activity.conversation.name ?? team) ? { conversationTitle: activity.conversation.name ?? team } : {}),
      sender: { id: activity.from.id, name: activity.from.name || activity.from.id },
      text: withoutMentions(activity.text ?? ''),
      attachments: attachmentsOf(activity),
      addressed: personal || mentioned,
      ...(personal || !activity.id ? {} : { replyTo: activity.id }),
    });
  };

  const keepAlive = async () => {
    while (!signal.aborted) {
      await sleep(Math.max(1_000, Math.floor(livenessMs / 3)), signal);
      if (signal.aborted) return;
      try {
        await metadata();
        ctx.alive(livenessMs);
      } catch (err) {
        if (!signal.aborted) ctx.logger.warn({ channel: 'teams', err: err instanceof Error ? err.message : String(err) }, 'Bot Framework OpenID metadata unreachable');
      }
    }
  };

  /** The OpenID metadata and its key set answer (the way activities are checked is open). */
  const metadata = async () => {
    const limit = AbortSignal.any([signal, AbortSignal.timeout(15_000)]);
    const res = await http.fetch(metadataUrl, { signal: limit });
    const config = (await res.json().catch(() => null)) as { jwks_uri?: string } | null;
    if (!res.ok || !config?.jwks_uri) throw platformError('Microsoft Teams', res.status, 'OpenID metadata has no jwks_uri');
    const keys = await http.fetch(config.jwks_uri, { signal: limit });
    await keys.arrayBuffer();
    if (!keys.ok) throw platformError('Microsoft Teams', keys.status, 'OpenID keys unavailable');
  };

  const serviceUrlOf = (to: ConversationRef): string => {
    const url = to.extra?.['serviceUrl'];
    if (!url) throw platformError('Microsoft Teams', 400, 'no serviceUrl is known for this conversation');
    return url;
  };

  return {
    limits: { maxTextChars: 20_000, editIntervalMs: 1_500, typingIntervalMs: 3_000 },

    async start() {
      await connector.token(signal);
      await metadata();
      ctx.alive(livenessMs);
      ctx.route('POST', '/messages', async (req) => {
        const activity = jsonBody<Activity>(req);
        if (!activity || typeof activity.type !== 'string' || typeof activity.serviceUrl !== 'string' || !activity.conversation?.id || !activity.from?.id) {
          // Checked first all the same: an unauthenticated caller learns nothing of the shape we want.
          if (!bearerOf(req)) return refused('no bearer token');
          return refused('not a Bot Framework activity', 400);
        }
        const refusal = await authenticate(bearerOf(req), activity);
        if (refusal) return { ...refused(refusal.why, refusal.status), ...(refusal.status === 503 ? { headers: { 'retry-after': '5' } } : {}) };
        ctx.alive(livenessMs);
        // Answered after the message is stored: a failure makes the Bot Framework deliver again.
        if (activity.type === 'message') await onMessage(activity);
        return { status: 200, body: {} };
      });
      void keepAlive();
    },

    async stop() {
      http.close();
    },

    async sendText(to, message, sendSignal) {
      return connector.send(serviceUrlOf(to), to.id, { type: 'message', text: message.text, textFormat: 'markdown', ...(message.replyTo ? { replyToId: message.replyTo } : {}) }, sendSignal);
    },

    async editText(to, messageId, text, sendSignal) {
      await connector.update(serviceUrlOf(to), to.id, messageId, { type: 'message', text, textFormat: 'markdown' }, sendSignal);
    },

    async sendTyping(to, sendSignal) {
      await connector.send(serviceUrlOf(to), to.id, { type: 'typing' }, sendSignal);
    },

    async sendFile(to, file, sendSignal) {
      const data = await readFile(file.path);
      if (data.length > INLINE_FILE_MAX_BYTES) throw platformError('Microsoft Teams', 413, `${file.name} is larger than ${INLINE_FILE_MAX_BYTES / 1024} KB, the most an inline attachment carries`);
      const contentUrl = `data:${file.mimeType};base64,${data.toString('base64')}`;
      return connector.send(serviceUrlOf(to), to.id, { type: 'message', ...(file.caption ? { text: file.caption } : {}), attachments: [{ contentType: file.mimeType, contentUrl, name: file.name }] }, sendSignal);
    },
  };
}
