/**
 * Mattermost through @mattermost/client: its WebSocketClient for events
 * (`posted`: DMs, and mentions in channels answered in their thread) and
 * Client4's routes of the REST API v4. Client4's own calls go through Node's
 * fetch and test for FormData, which load Node's whole fetch stack (~35 MB
 * per idle gateway): the requests to its routes are made on this channel's
 * small HTTP client instead, failing with Client4's ClientError, and files
 * are uploaded as a multipart body built by hand. Liveness is the server's
 * replies to the socket's pings and the events it sends.
 */
import { readFile } from 'node:fs/promises';
// A CommonJS package whose named exports Node cannot see from ESM when it is
// not bundled (the test bundles keep packages external): take them off the default export.
import mattermostClient from '@mattermost/client';
import { WebSocket } from 'ws';
import { AppError } from '@autoclaw/shared';
import { createHttpClient } from '../http-client';
import { multipartBody } from '../multipart-body';
import { platformError } from '../platform-error';
import { ensureWebSocketGlobals } from './websocket-global';
import type { ChannelAdapter, ChannelContext, ConversationRef } from '../types';

const { Client4, ClientError, WebSocketClient } = mattermostClient;

interface Post {
  id: string;
  channel_id: string;
  user_id: string;
  message: string;
  root_id?: string;
  file_ids?: string[];
}

interface PostedEvent {
  event: string;
  data: { channel_type?: string; channel_display_name?: string; post?: string; sender_name?: string; mentions?: string };
}

export function mattermostError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ClientError) {
    if (err.status_code === 401) return new AppError('UNAUTHORIZED', 'Mattermost refused the token', { cause: err });
    const retry = (err as { retryAfterMs?: number }).retryAfterMs;
    return platformError('Mattermost', err.status_code ?? null, err.message, { ...(retry === undefined ? {} : { retryAfterMs: retry }), cause: err });
  }
  return platformError('Mattermost', null, err instanceof Error ? err.message : String(err), { cause: err });
}

export function createMattermostAdapter(ctx: ChannelContext): ChannelAdapter {
  const base = (ctx.setting('mattermost.url') ?? '').replace(/\/+$/, '');
  const token = ctx.setting('mattermost.token') ?? '';
  const limit = ctx.tuning.livenessMs ?? 60_000;
  const http = createHttpClient();
  const client = new Client4();
  client.setUrl(base);
  client.setToken(token);
  let me = '';
  let myName = '';
  let pinger: NodeJS.Timeout | null = null;

  /** A REST call to a route Client4 names, on node:http (see the note at the top); data, or a ClientError. */
  const rest = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { 'x-requested-with': 'XMLHttpRequest', authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await http.fetch(url, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: ctx.signal });
    const type = res.headers.get('content-type') ?? '';
    const data = (type.includes('application/json') ? await res.json() : { message: await res.text() }) as Record<string, unknown>;
    if (res.ok) return data as T;
    const error = new ClientError(base, { message: String(data['message'] ?? `HTTP ${res.status}`), server_error_id: String(data['id'] ?? ''), status_code: res.status, url });
    const after = Number(res.headers.get('retry-after'));
    if (Number.isFinite(after)) Object.assign(error, { retryAfterMs: after * 1000 });
    throw error;
  };

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw mattermostError(err);
    }
  };

  ensureWebSocketGlobals();
  const ws = new WebSocketClient({
    newWebSocketFn: (url: string) => new WebSocket(url) as unknown as globalThis.WebSocket,
    // The SDK's own ping check is left slower than the watchdog, which decides.
    clientPingInterval: limit * 2,
    minWebSocketRetryTime: 1_000,
  });

  const onPosted = async (event: PostedEvent) => {
    if (event.event !== 'posted' || !event.data.post) return;
    const post = JSON.parse(event.data.post) as Post;
    if (post.user_id === me) return;
    const dm = event.data.channel_type === 'D';
    const mentions = event.data.mentions ? (JSON.parse(event.data.mentions) as string[]) : [];
    const addressed = dm || mentions.includes(me) || new RegExp(`(^|\\s)@${myName}\\b`, 'i').test(post.message);
    const conversation: ConversationRef = dm ? { id: post.channel_id, kind: 'dm' } : { id: post.channel_id, kind: 'group', thread: post.root_id || post.id };
    // A file's name and type come with its info.
    const files = await Promise.all(
      (post.file_ids ?? []).map((id) => rest<{ id: string; name: string; mime_type?: string; size?: number }>('GET', `${client.getFileRoute(id)}/info`).catch(() => ({ id, name: id }) as { id: string; name: string; mime_type?: string; size?: number })),
    );
    await ctx.receive({
      platformId: post.id,
      conversation,
      ...(!dm && event.data.channel_display_name ? { conversationTitle: event.data.channel_display_name } : {}),
      sender: { id: post.user_id, name: (event.data.sender_name ?? post.user_id).replace(/^@/, '') },
      text: post.message.replace(new RegExp(`(^|\\s)@${myName}\\b`, 'gi'), ' ').trim(),
      attachments: files.map((info) => ({
        name: info.name,
        ...(info.mime_type ? { mimeType: info.mime_type } : {}),
        ...(info.size === undefined ? {} : { size: info.size }),
        async download(signal: AbortSignal) {
          const res = await http.fetch(client.getFileRoute(info.id), { headers: { authorization: `Bearer ${token}` }, signal });
          if (!res.ok) throw new Error(`download failed (HTTP ${res.status})`);
          return res.bytes();
        },
      })),
      addressed,
    });
  };

  ws.addMessageListener(
    ctx.guard(async (msg: unknown) => {
      // Every event the server pushes proves the socket alive.
      ctx.alive(limit);
      await onPosted(msg as PostedEvent);
    }),
  );
  ws.addErrorListener(ctx.guard(() => undefined));

  return {
    limits: { maxTextChars: 16_000, editIntervalMs: 1_000, typingIntervalMs: 5_000 },

    async start() {
      const user = await call(() => rest<{ id: string; username: string }>('GET', client.getUserRoute('me')));
      me = user.id;
      myName = user.username.replace(/[^A-Za-z0-9._-]/g, '');
      const connected = new Promise<void>((resolve, reject) => {
        ws.addFirstConnectListener(() => resolve());
        ws.addCloseListener(() => reject(new AppError('UNAUTHORIZED', 'Mattermost closed the WebSocket (token refused?)')));
      });
      ws.initialize(`${base.replace(/^http/, 'ws')}/api/v4/websocket`, token);
      await connected;
      // Pings answered prove the socket; the SDK drops one whose pings go unanswered.
      pinger = setInterval(() => ws.ping(() => ctx.alive(limit)), Math.max(500, Math.floor(limit / 4)));
      pinger.unref();
    },

    async stop() {
      if (pinger) clearInterval(pinger);
      ws.close();
      http.close();
    },

    async sendText(to, message) {
      const post = await call(() => rest<Post>('POST', client.getPostsRoute(), { channel_id: to.id, message: message.text, ...(to.thread ? { root_id: to.thread } : {}) }));
      return { id: post.id };
    },

    async editText(_to, messageId, text) {
      await call(() => rest('PUT', `${client.getPostRoute(messageId)}/patch`, { message: text }));
    },

    async sendTyping(to) {
      ws.userTyping(to.id, to.thread ?? '');
    },

    async sendFile(to, file, signal) {
      const data = await readFile(file.path);
      const form = multipartBody([
        { name: 'channel_id', value: to.id },
        { name: 'files', filename: file.name, data, type: file.mimeType },
      ]);
      const res = await http.fetch(client.getFilesRoute(), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': form.type }, body: form.body, signal });
      const uploaded = (await res.json()) as { file_infos?: Array<{ id: string }>; message?: string };
      if (!res.ok) throw platformError('Mattermost', res.status, uploaded.message ?? 'upload failed');
      const ids = (uploaded.file_infos ?? []).map((f) => f.id);
      const post = await call(() => rest<Post>('POST', client.getPostsRoute(), { channel_id: to.id, message: file.caption ?? '', file_ids: ids, ...(to.thread ? { root_id: to.thread } : {}) }));
      return { id: post.id };
    },
  };
}
