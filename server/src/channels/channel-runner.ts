/**
 * One channel's supervisor. While the channel is enabled it keeps one run
 * of its adapter going: load the SDK (first time), start, and watch — a run
 * ends when the adapter fails, an error escapes from its SDK, or the
 * platform stops proving the connection alive within the limit (the
 * watchdog). Then it is reconnected with backoff and the user is told.
 * Each state change is stored with its history; `down` (not configured,
 * token refused) waits for a settings change, enabling again, or a long
 * backoff.
 */
import { AppError, CHANNEL_SECRET_SETTINGS, type ChannelName, type ChannelSettingKey, type ChannelState, type ChannelStatus, type NoticeSink } from '@autoclaw/shared';
import type { Logger } from '../agent';
import type { Store } from '../store';
import { dmPolicyOf } from './access';
import type { ChannelDelivery } from './delivery';
import { describe, type Isolation } from './isolation';
import { Lanes } from './lanes';
import type { ChannelOutbox } from './outbox';
import { OutboxWorker } from './outbox-worker';
import type { ChannelRouteTable } from './routes';
import type { ChannelAdapter, ChannelContext, ChannelDefinition, ChannelStateStore, ChannelTuning, InboundMessage, ReceiveResult, Sender } from './types';
import { Watchdog } from './watchdog';
import { DOWN_RETRY_MS, PERMANENT, RestartRequest, STABLE_MS, STOP_TIMEOUT_MS, StopRequest } from './run-policy';

export { defaultBackoff } from './run-policy';

export interface RunnerDeps {
  definition: ChannelDefinition;
  store: Store;
  setting(key: ChannelSettingKey): string | null;
  /** Secret per-channel values (link state), encrypted with the data key. */
  secretState(channel: string): Pick<ChannelStateStore, 'getSecret' | 'setSecret'>;
  isolation: Isolation;
  routes: ChannelRouteTable;
  delivery: ChannelDelivery;
  outbox: ChannelOutbox;
  notices: NoticeSink;
  logger: Logger;
  now: () => number;
  workspaceDir: string;
  tuning: ChannelTuning;
  /** Delay before reconnect attempt `attempt` (1, 2, …). */
  backoffMs: (attempt: number) => number;
  receive(channel: ChannelName, message: InboundMessage, ctx: { signal: AbortSignal; redact: (text: string) => string }): Promise<ReceiveResult>;
  answerApproval(channel: ChannelName, toolCallId: string, approve: boolean, from: Sender): boolean;
  /** The status changed (state, QR): the Channels page hears it. */
  onStatus(status: ChannelStatus): void;
}

interface Run {
  controller: AbortController;
  /** Resolves with why the run must end. */
  ended: Promise<unknown>;
  end: (why: unknown) => void;
}

export class ChannelRunner {
  readonly name: ChannelName;
  readonly #deps: RunnerDeps;
  #loop: Promise<void> | null = null;
  #run: Run | null = null;
  #wake: (() => void) | null = null;
  #stopped = false;
  #qr: string | null = null;
  /** Kept across runs: a reconnect does not unlink the account. */
  #account: string | null = null;
  /** The user heard the channel went away: tell them when it is back. */
  #outageNoticed = false;
  /** Connected in this process (a gateway restart is not an outage to report). */
  #connectedHere = false;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.name = deps.definition.name;
  }

  get #label(): string {
    return this.#deps.definition.label;
  }

  configured(): boolean {
    return this.#deps.definition.required.every((key) => this.#deps.setting(key) !== null);
  }

  status(): ChannelStatus {
    const record = this.#deps.store.getChannel(this.name);
    const enabled = record?.enabled ?? false;
    return {
      name: this.name,
      enabled,
      state: enabled ? (record?.state ?? 'reconnecting') : 'disabled',
      since: record?.since ?? null,
      lastInboundAt: record?.lastInboundAt ?? null,
      lastError: record?.lastError ?? null,
      configured: this.configured(),
      dmPolicy: dmPolicyOf(this.#deps.setting(`${this.name}.dmPolicy` as ChannelSettingKey)),
      qr: this.#qr,
      account: this.#account,
    };
  }

  /** Starts supervising when the channel is enabled. */
  start(): void {
    this.#stopped = false;
    const record = this.#deps.store.getChannel(this.name);
    if (record?.enabled) this.#ensureLoop();
    else if (record && record.state !== 'disabled') this.#setState('disabled', null);
  }

  setEnabled(enabled: boolean): ChannelStatus {
    this.#deps.store.setChannelEnabled(this.name, enabled);
    if (enabled) {
      this.#ensureLoop();
      this.#wake?.();
    } else {
      this.#run?.end(new StopRequest());
      this.#wake?.();
    }
    this.#emit();
    return this.status();
  }

  /** Reconnects now (its connection settings changed). */
  restart(): void {
    if (this.#run) this.#run.end(new RestartRequest());
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#run?.end(new StopRequest());
    this.#wake?.();
    await this.#loop;
  }

  #ensureLoop(): void {
    if (this.#loop || this.#stopped) return;
    this.#loop = this.#supervise().finally(() => {
      this.#loop = null;
    });
  }

  #enabled(): boolean {
    return !this.#stopped && (this.#deps.store.getChannel(this.name)?.enabled ?? false);
  }

  async #supervise(): Promise<void> {
    let attempt = 0;
    while (this.#enabled()) {
      if (!this.configured()) {
        const missing = this.#deps.definition.required.filter((key) => this.#deps.setting(key) === null);
        this.#setState('down', `not configured: set ${missing.join(', ')}`);
        await this.#pause(DOWN_RETRY_MS);
        continue;
      }
      attempt += 1;
      const outcome = await this.#runOnce();
      if (!this.#enabled()) break;
      if (outcome.stable) attempt = 1;
      if (outcome.why instanceof RestartRequest) {
        attempt = 0;
        continue;
      }
      const message = this.#redact(describe(outcome.why));
      if (AppError.is(outcome.why) && PERMANENT.has(outcome.why.code)) {
        this.#setState('down', message);
        await this.#pause(DOWN_RETRY_MS);
        attempt = 0;
        continue;
      }
      this.#setState('reconnecting', message);
      await this.#pause(this.#deps.backoffMs(attempt));
    }
    if (!this.#stopped) this.#setState('disabled', null);
  }

  /** Waits `ms`, or until woken (enabled, settings changed, stopping). */
  #pause(ms: number): Promise<void> {
    if (!this.#enabled()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  async #runOnce(): Promise<{ why: unknown; stable: boolean }> {
    const { definition, isolation, logger } = this.#deps;
    const controller = new AbortController();
    let end!: (why: unknown) => void;
    const ended = new Promise<unknown>((resolve) => {
      end = (why) => {
        if (!controller.signal.aborted) controller.abort(why);
        resolve(why);
      };
    });
    const run: Run = { controller, ended, end };
    this.#run = run;
    const record = this.#deps.store.getChannel(this.name);
    if (record?.state !== 'reconnecting') this.#setState('reconnecting', null);

    const watchdog = new Watchdog({ now: this.#deps.now, limitMs: this.#deps.tuning.livenessMs ?? definition.livenessMs });
    const detachEscape = isolation.onEscape(this.name, (err) => end(err));
    isolation.install();
    let adapter: ChannelAdapter | null = null;
    let worker: OutboxWorker | null = null;
    let connectedAt: number | null = null;
    let tick: NodeJS.Timeout | null = null;
    try {
      const factory = await isolation.run(this.name, () => definition.load());
      const ctx = this.#context(run, watchdog);
      adapter = isolation.run(this.name, () => factory(ctx));
      const started = isolation.run(this.name, () => adapter!.start());
      const startLimit = watchdog.limitMs;
      const startTimer = new Promise<never>((_, reject) => {
        const timer = setTimeout(() => reject(new AppError('TIMEOUT', `${definition.label} did not connect within ${Math.round(startLimit / 1000)} s`)), startLimit);
        timer.unref();
        void ended.finally(() => clearTimeout(timer));
      });
      const first = await Promise.race([started.then(() => null), ended, startTimer]);
      if (first !== null) return { why: first, stable: false };

      watchdog.beat();
      connectedAt = this.#deps.now();
      this.#connected();
      const lanes = new Lanes();
      const within = <T>(fn: () => Promise<T>) => isolation.run(this.name, fn);
      worker = new OutboxWorker({
        channel: this.name,
        store: this.#deps.store,
        adapter,
        lanes,
        workspaceDir: this.#deps.workspaceDir,
        now: this.#deps.now,
        logger,
        signal: controller.signal,
        within,
        redact: (text) => this.#redact(text),
      });
      const w = worker;
      this.#deps.outbox.setWaker(this.name, () => w.kick());
      this.#deps.delivery.attach(this.name, {
        adapter,
        lanes,
        signal: controller.signal,
        editIntervalMs: this.#deps.tuning.editIntervalMs ?? adapter.limits.editIntervalMs,
        within,
      });
      worker.kick();
      // The limit may change (a platform's heartbeat interval): look again at its current pace.
      const look = () => {
        if (watchdog.overdue()) {
          end(new AppError('TIMEOUT', `no heartbeat from ${definition.label} for ${Math.round(watchdog.silentMs() / 1000)} s (limit ${Math.round(watchdog.limitMs / 1000)} s)`));
          return;
        }
        tick = setTimeout(look, watchdog.checkEveryMs());
        tick.unref();
      };
      look();
      const why = await ended;
      return { why, stable: connectedAt !== null && this.#deps.now() - connectedAt >= STABLE_MS };
    } catch (err) {
      return { why: err, stable: false };
    } finally {
      if (tick) clearTimeout(tick);
      end(new StopRequest());
      this.#deps.delivery.detach(this.name);
      this.#deps.outbox.setWaker(this.name, null);
      worker?.stop();
      this.#deps.routes.clear(this.name);
      if (this.#qr !== null) {
        this.#qr = null;
        this.#emit();
      }
      if (adapter) await this.#stopAdapter(adapter);
      detachEscape();
      if (this.#run === run) this.#run = null;
    }
  }

  async #stopAdapter(adapter: ChannelAdapter): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#deps.isolation.run(this.name, () => adapter.stop()),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, STOP_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.#deps.logger.warn({ channel: this.name, err: this.#redact(describe(err)) }, 'channel stop failed');
    } finally {
      clearTimeout(timer);
    }
  }

  #context(run: Run, watchdog: Watchdog): ChannelContext {
    const { isolation } = this.#deps;
    const name = this.name;
    const fail = (err: unknown) => run.end(err ?? new Error('failed'));
    const secret = this.#deps.secretState(name);
    return {
      name,
      setting: (key) => this.#deps.setting(key),
      tuning: this.#deps.tuning,
      signal: run.controller.signal,
      logger: this.#deps.logger,
      now: this.#deps.now,
      alive: (limitMs) => watchdog.beat(limitMs),
      livenessLimit: (limitMs) => watchdog.setLimit(limitMs),
      fail,
      guard<A extends unknown[]>(fn: (...args: A) => unknown) {
        return (...args: A) => {
          try {
            const result = fn(...args);
            if (result instanceof Promise) result.catch(fail);
          } catch (err) {
            fail(err);
          }
        };
      },
      receive: (message) =>
        isolation.exit(() => this.#deps.receive(name, message, { signal: run.controller.signal, redact: (text) => this.#redact(text) })),
      answerApproval: (toolCallId, approve, from) => isolation.exit(() => Promise.resolve(this.#deps.answerApproval(name, toolCallId, approve, from))),
      route: (method, path, handler) => {
        if (run.controller.signal.aborted) return;
        this.#deps.routes.add(name, method, path, (request) => isolation.run(name, () => handler(request)));
      },
      state: {
        get: (key) => this.#deps.store.getChannelValue(name, key),
        set: (key, value) => this.#deps.store.setChannelValue(name, key, value),
        getSecret: (key) => secret.getSecret(key),
        setSecret: (key, value) => secret.setSecret(key, value),
      },
      showQr: (payload) => {
        if (run.controller.signal.aborted) return;
        this.#qr = payload;
        this.#emit();
      },
      showAccount: (account) => {
        if (run.controller.signal.aborted || this.#account === account) return;
        this.#account = account;
        this.#emit();
      },
    };
  }

  #connected(): void {
    this.#connectedHere = true;
    this.#setState('connected', null);
    if (this.#outageNoticed) {
      this.#outageNoticed = false;
      this.#deps.notices.publish({ kind: 'channel', level: 'info', title: `${this.#label} is connected again`, body: `${this.#label} is back and delivering messages.` });
    }
  }

  #setState(state: ChannelState, error: string | null): void {
    const before = this.#deps.store.getChannel(this.name)?.state;
    const { changed } = this.#deps.store.setChannelState(this.name, state, error);
    if (!changed) return;
    this.#deps.logger.info({ channel: this.name, state, ...(error ? { reason: error } : {}) }, 'channel state');
    if (state === 'reconnecting' && before === 'connected' && this.#connectedHere) {
      this.#outageNoticed = true;
      this.#deps.notices.publish({ kind: 'channel', level: 'warning', title: `${this.#label} is reconnecting`, body: error ?? 'The connection was lost; reconnecting.' });
    } else if (state === 'down' && before !== 'down') {
      this.#outageNoticed = true;
      this.#deps.notices.publish({ kind: 'channel', level: 'error', title: `${this.#label} is down`, body: error ?? 'It cannot connect.' });
    }
    this.#emit();
  }

  #emit(): void {
    this.#deps.onStatus(this.status());
  }

  /** Takes the channel's secrets (tokens appear in SDK error texts and URLs) out of `text`. */
  #redact(text: string): string {
    let out = text;
    for (const key of CHANNEL_SECRET_SETTINGS) {
      if (!key.startsWith(`${this.name}.`)) continue;
      const value = this.#deps.setting(key);
      if (value && value.length >= 6) out = out.split(value).join('[redacted]');
    }
    return out;
  }
}
