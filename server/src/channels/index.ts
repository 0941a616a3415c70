/**
 * The channels part's door: chat platforms (Telegram, Discord, Slack,
 * Matrix, Mattermost, and those that follow) reaching the same assistant.
 *
 * ## The seam (design note)
 *
 * A channel is a folder `channels/<name>/` with a light `definition.ts`
 * (name, label, required and connection settings, default liveness limit,
 * and `load()`, a dynamic import of `adapter.ts` — the SDK is loaded only
 * when the channel is enabled) and the adapter: `(ctx: ChannelContext) =>
 * ChannelAdapter` (types.ts). One ChannelRunner supervises each channel:
 *
 * - **Run**: `start()` connects and resolves when the platform accepted the
 *   connection; the run then lasts until the adapter calls `ctx.fail(err)`,
 *   an error escapes from its SDK, the watchdog fires, the channel is
 *   disabled or a connection setting changes. `stop()` must free every
 *   socket, timer and child process; `ctx.signal` aborts with the run.
 * - **Isolation**: everything a channel runs executes inside an
 *   AsyncLocalStorage context naming it; a throw or rejection that escapes
 *   the SDK's promise chains reaches the process listeners, which restart
 *   that channel only (isolation.ts). Wrap SDK event handlers in
 *   `ctx.guard(fn)` so that their failures end the run at once.
 * - **Liveness**: `ctx.alive(limitMs?)` each time the platform itself proves
 *   the connection (a long-poll round, a heartbeat ACK, a sync response,
 *   a keep-alive call for webhook/HTTP channels, a daemon's reply). Past the
 *   limit the run ends: *reconnecting* with backoff, the user notified, the
 *   state and its history stored (`connected`/`reconnecting`/`down`).
 *   AppError UNAUTHORIZED/FORBIDDEN/NOT_CONFIGURED/BAD_REQUEST means *down*.
 * - **Inbound**: `await ctx.receive(message)` (platform message id, sender,
 *   conversation, text, attachments, `addressed` in groups) applies the
 *   access policy (pairing / allowlist / open; groups only when addressed),
 *   maps the conversation to its session (one per DM, one per group or
 *   thread), stores files in the workspace, and stores the message with a
 *   client id derived from channel + platform id — a redelivery is one turn,
 *   even across restarts. It resolves after the commit: acknowledge the
 *   platform (advance an offset, ack an envelope, answer a webhook) only then.
 * - **Outbound**: delivery follows the chat service's events; answers stream
 *   by `editText` at the platform's `limits.editIntervalMs`, are split at
 *   `limits.maxTextChars`, and the final text, failures, approval prompts
 *   (`sendApproval` buttons, else a reply command) and files
 *   (`sendFile`) go through an outbound queue in SQLite with retries that
 *   honour `AppError('RATE_LIMITED', …, { details: { retryAfterMs } })`.
 *
 * Shapes the second wave of channels fits into:
 * - **Long poll / socket** (Telegram, Discord, Slack Socket Mode, Matrix,
 *   Mattermost): the SDK's client inside `start()`/`stop()`.
 * - **QR-linked session** (WhatsApp, Signal link): `ctx.showQr(payload)`
 *   publishes the pairing QR (the Channels page renders it), and
 *   `ctx.showAccount(number)` the account it linked as; `ctx.state`
 *   `getSecret`/`setSecret` keeps the link's auth state encrypted in the
 *   store (never loose files); reconnect with the stored state, and fetch
 *   what arrived while offline (dedupe makes replays harmless).
 * - **Supervised local daemon** (signal-cli): spawn it in `start()`, talk to
 *   it (JSON-RPC), call `ctx.fail` when it exits, kill it in `stop()`; the
 *   runner's backoff restarts it.
 * - **Inbound signed HTTP** (Teams, Google Chat, Telegram webhooks):
 *   `ctx.route('POST', '/messages', handler)` serves
 *   `/channels/<name>/messages` on the gateway, exempt from device auth; the
 *   handler authenticates each request (JWT, bearer, secret token) and
 *   answers only after `ctx.receive` resolved, so a failure makes the
 *   platform redeliver. A route lives as long as the run that added it (503
 *   while the channel does not run).
 *
 * Every API root is a setting (`<channel>.apiRoot` and the like), so tests
 * point the real SDK at a local server (server/src/testing/).
 */
export { createChannelManager, type ChannelManager, type ChannelManagerDeps } from './manager';
export type { ChannelRouteTable } from './routes';
export type { ProcessEvents } from './isolation';
export { CHANNEL_DEFINITIONS } from './registry';
export { channelClientId } from './client-id';
export { approvePairing, auditChannel } from './pairing';
export { createOutbox } from './outbox';
export type * from './types';
