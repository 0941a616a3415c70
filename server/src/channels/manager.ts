/**
 * The channels of one gateway: a supervisor per channel, the inbound path,
 * delivery with its outbound queue, access (pairings, approved senders) and
 * the HTTP routes channels serve. What the router, the CLI and the Channels
 * page use.
 */
import { AppError, CHANNEL_NAMES, createBroadcast, type ApprovedSender, type ChannelDetail, type ChannelEvent, type ChannelName, type ChannelSettingKey, type ChannelStatus, type NoticeSink, type SettingKey } from '@autoclaw/shared';
import type { ChatService, Logger } from '../agent';
import type { Vault } from '../security';
import type { Store } from '../store';
import { decideAccess } from './access';
import { ChannelRunner, defaultBackoff } from './channel-runner';
import { createDelivery } from './delivery';
import { receiveInbound } from './inbound';
import { createIsolation, describe, type ProcessEvents } from './isolation';
import { createOutbox } from './outbox';
import { approvePairing, auditChannel } from './pairing';
import { CHANNEL_DEFINITIONS } from './registry';
import { createRouteTable, type ChannelRouteTable } from './routes';
import type { ChannelDefinition, ChannelTuning } from './types';

export interface ChannelManagerDeps {
  store: Store;
  chat: ChatService;
  settings: { get(key: SettingKey): string | null; onChange(listener: (key: SettingKey) => void): () => void };
  vault: Vault;
  notices: NoticeSink;
  logger: Logger;
  now: () => number;
  /** The agent's workspace (inbound files land in `channels/` inside it). */
  workspaceDir: string;
  tuning?: ChannelTuning;
  backoffMs?: (attempt: number) => number;
  /** The channels (default: every built-in one). */
  definitions?: readonly ChannelDefinition[];
  /** Where escaped errors are caught (default: the process). */
  proc?: ProcessEvents;
}

export interface ChannelManager {
  /** Resumes channel turns an unclean stop cut off, queues undelivered answers, starts enabled channels. */
  start(): Promise<void>;
  stop(): Promise<void>;
  list(): ChannelStatus[];
  /** Enabled channels that need a live process (a long poll, a gateway socket): the instance must not sleep. */
  keepAwake(): ChannelName[];
  detail(name: ChannelName): ChannelDetail;
  /** Each change is audited as made by `actor` (a device id; null for the local CLI). */
  setEnabled(name: ChannelName, enabled: boolean, actor?: string | null): ChannelStatus;
  /** Lets the sender of a pending pairing in (and tells them). */
  approve(channel: ChannelName, code: string, actor?: string | null): ApprovedSender;
  deny(channel: ChannelName, code: string, actor?: string | null): void;
  revoke(channel: ChannelName, senderId: string, actor?: string | null): void;
  /** Status and sender changes, live, until `signal` aborts. */
  events(signal: AbortSignal): AsyncIterable<ChannelEvent>;
  readonly routes: ChannelRouteTable;
}

const HISTORY_SHOWN = 50;
/** How often a channel's last-message time is written (not on every message). */
const TOUCH_EVERY_MS = 5_000;

export function createChannelManager(deps: ChannelManagerDeps): ChannelManager {
  const { store, chat, logger, now } = deps;
  const definitions = deps.definitions ?? CHANNEL_DEFINITIONS;
  const setting = (key: ChannelSettingKey) => deps.settings.get(key);
  const isolation = createIsolation({ logger, ...(deps.proc ? { proc: deps.proc } : {}) });
  const routes = createRouteTable({ isKnown: (name) => runners.has(name as ChannelName) });
  const outbox = createOutbox(store);
  const delivery = createDelivery({ store, chat, outbox, now, logger });
  const live = createBroadcast<ChannelEvent>();
  const broadcast = (event: ChannelEvent) => live.publish(event);

  /** Answers a waiting tool call; false when it waits no more (answered, turn gone). */
  const answer = (toolCallId: string, approve: boolean): boolean => {
    try {
      chat.approve(toolCallId, approve);
      return true;
    } catch (err) {
      if (AppError.is(err)) return false;
      throw err;
    }
  };
  const answerByCode = (sessionId: string, code: string, approve: boolean): boolean => {
    const toolCallId = delivery.approvalByCode(sessionId, code);
    return toolCallId !== null && answer(toolCallId, approve);
  };

  const runners = new Map<ChannelName, ChannelRunner>();
  const lastTouch = new Map<ChannelName, number>();
  for (const definition of definitions) {
    runners.set(
      definition.name,
      new ChannelRunner({
        definition,
        store,
        setting,
        secretState: (channel) => ({
          getSecret(key) {
            const stored = store.getChannelValue(channel, `secret:${key}`);
            return stored === null ? null : deps.vault.decrypt(stored, `autoclaw-channel/v1:${channel}:${key}`);
          },
          setSecret(key, value) {
            store.setChannelValue(channel, `secret:${key}`, value === null ? null : deps.vault.encrypt(value, `autoclaw-channel/v1:${channel}:${key}`));
          },
        }),
        isolation,
        routes,
        delivery,
        outbox,
        notices: deps.notices,
        logger,
        now,
        workspaceDir: deps.workspaceDir,
        tuning: deps.tuning ?? {},
        backoffMs: deps.backoffMs ?? defaultBackoff,
        receive: async (channel, message, ctx) => {
          const result = await receiveInbound(
            {
              store,
              chat,
              outbox,
              workspaceDir: deps.workspaceDir,
              now,
              answerByCode,
              knownRoute: (sessionId) => delivery.routeOf(sessionId),
              remember: (sessionId, conv) => {
                delivery.remember(sessionId, conv);
                // A new conversation: the app's sessions list hears of it through the status event.
                lastTouch.delete(channel);
              },
            },
            { name: channel, label: definition.label, setting, signal: ctx.signal, redact: ctx.redact },
            message,
          );
          // The Channels page shows the last message's time (to the few seconds) and who waits for approval.
          if (result === 'stored' && now() - (lastTouch.get(channel) ?? 0) >= TOUCH_EVERY_MS) {
            lastTouch.set(channel, now());
            store.touchChannelInbound(channel);
            broadcast({ type: 'status', status: runner(channel).status() });
          } else if (result === 'pairing') broadcast({ type: 'senders', channel });
          return result;
        },
        answerApproval(channel, toolCallId, approve, from) {
          const call = store.getToolCall(toolCallId);
          const message = call ? store.getMessage(call.messageId) : null;
          const conversation = message ? store.getConversation(message.sessionId) : null;
          if (!conversation || conversation.channel !== channel) return false;
          // Whoever may talk to the assistant here may answer its questions.
          const probe = { platformId: '-', conversation: { id: '-', kind: 'dm' as const }, sender: from, text: '-' };
          return decideAccess({ store, setting }, channel, probe) === 'allow' && answer(toolCallId, approve);
        },
        onStatus: (status) => broadcast({ type: 'status', status }),
      }),
    );
  }

  const runner = (name: ChannelName): ChannelRunner => {
    const found = runners.get(name);
    if (!found) throw new AppError('NOT_FOUND', `no channel named ${name}; channels: ${CHANNEL_NAMES.join(', ')}`);
    return found;
  };

  const unsubscribe = deps.settings.onChange((key) => {
    const [channel] = key.split('.');
    const found = runners.get(channel as ChannelName);
    if (!found) return;
    const definition = definitions.find((d) => d.name === channel);
    if (definition && ([...definition.connection, ...definition.required] as string[]).includes(key)) found.restart();
    broadcast({ type: 'status', status: found.status() });
  });

  return {
    routes,

    async start() {
      for (const message of store.channelTurnsToResume()) {
        if (!message.clientId) continue;
        store.markInboundRetried(message.clientId);
        try {
          chat.retry(message.id);
        } catch (err) {
          logger.warn({ messageId: message.id, err: describe(err) }, 'could not resume a channel turn');
        }
      }
      const queued = delivery.reconcile();
      if (queued > 0) logger.info({ queued }, 'queued channel answers a crash left undelivered');
      store.pruneOutbound(now() - 7 * 24 * 60 * 60 * 1000);
      for (const r of runners.values()) r.start();
    },

    async stop() {
      unsubscribe();
      await Promise.all([...runners.values()].map((r) => r.stop()));
      delivery.close();
      isolation.uninstall();
      live.close();
    },

    list: () => [...runners.values()].map((r) => r.status()),

    keepAwake: () =>
      definitions
        .filter((d) => {
          const status = runners.get(d.name)?.status();
          return status !== undefined && status.enabled && status.state !== 'disabled' && !(d.sleepsWith && setting(d.sleepsWith));
        })
        .map((d) => d.name),

    detail(name) {
      const r = runner(name);
      return {
        status: r.status(),
        history: store.channelHistory(name, HISTORY_SHOWN),
        pending: store.listPairings(name, now()),
        approved: store.listApprovedSenders(name),
      };
    },

    setEnabled(name, enabled, actor = null) {
      const r = runner(name);
      const was = store.getChannel(name)?.enabled ?? false;
      const status = r.setEnabled(enabled);
      if (was !== enabled) auditChannel(store, actor, enabled ? 'channels.enable' : 'channels.disable', name);
      return status;
    },

    approve(channel, code, actor = null) {
      runner(channel);
      const sender = approvePairing(store, outbox, channel, code, now(), actor);
      logger.info({ channel, senderId: sender.senderId }, 'channel sender approved');
      broadcast({ type: 'senders', channel });
      return sender;
    },

    deny(channel, code, actor = null) {
      runner(channel);
      const pairing = store.takePairing(channel, code, now());
      if (!pairing) throw new AppError('NOT_FOUND', `no pending pairing ${code} on ${channel}`);
      auditChannel(store, actor, 'channels.deny', `${channel}:${pairing.senderId}`, pairing.senderName || null);
      broadcast({ type: 'senders', channel });
    },

    revoke(channel, senderId, actor = null) {
      runner(channel);
      if (!store.revokeSender(channel, senderId)) throw new AppError('NOT_FOUND', `${senderId} is not an approved sender of ${channel}`);
      auditChannel(store, actor, 'channels.revoke', `${channel}:${senderId}`);
      broadcast({ type: 'senders', channel });
    },

    events: (signal) => live.subscribe(signal),
  };
}
