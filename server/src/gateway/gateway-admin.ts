/**
 * What the manager device may do to its gateway (admin.* procedures):
 * drain before a graceful restart — new turns are refused, running ones
 * finish — and read health (memory, uptime, busy sessions).
 */
import type { NoticeInput, SelfCheck } from '@autoclaw/shared';
import type { AgentChatService } from '../agent';
import type { Logger } from './logger';
import type { GatewayAdmin } from './trpc';

export interface GatewayAdminDeps {
  chat: Pick<AgentChatService, 'stats'>;
  now: () => number;
  logger: Logger;
  /** How often a drain looks whether turns are still running (default 50 ms). */
  pollMs?: number;
  /** Store, migrations and agent wiring, exercised without a provider call (before an update switches to this build). */
  selfCheck?: () => SelfCheck;
  /** Posts a notice to the user (the manager telling why an update was rolled back). */
  notify?: (input: NoticeInput) => void;
  /** Client sockets open now (the manager's own not counted), and channels that need a live process. */
  clients?: () => number;
  keepAwake?: () => string[];
}

/** Runs named checks; a throw is that check failing with its message. */
export function runChecks(checks: Record<string, () => string>): SelfCheck['checks'] {
  return Object.entries(checks).map(([name, fn]) => {
    try {
      return { name, ok: true, detail: fn() };
    } catch (err) {
      return { name, ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  });
}

export function createGatewayAdmin(deps: GatewayAdminDeps): GatewayAdmin & { close(): void } {
  const startedAt = deps.now();
  const pollMs = deps.pollMs ?? 50;
  let draining = false;
  let closed = false;
  const waits = new Set<() => void>();
  const busy = () => deps.chat.stats().busySessions;

  return {
    get draining() {
      return draining;
    },
    async drain(timeoutMs) {
      if (!draining) deps.logger.info('draining: new turns are refused until restart', { busySessions: busy() });
      draining = true;
      const deadline = deps.now() + timeoutMs;
      while (!closed && busy() > 0 && deps.now() < deadline) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waits.delete(done);
            resolve();
          };
          const timer = setTimeout(done, Math.max(1, Math.min(pollMs, deadline - deps.now())));
          waits.add(done);
        });
        if (closed) break;
      }
      const busySessions = busy();
      return { drained: busySessions === 0, busySessions };
    },
    selfCheck() {
      if (!deps.selfCheck) throw new Error('this gateway cannot check itself');
      return deps.selfCheck();
    },
    notify(input) {
      deps.notify?.(input);
    },
    health() {
      return {
        rssMb: Math.round((process.memoryUsage.rss() / (1024 * 1024)) * 10) / 10,
        uptimeMs: deps.now() - startedAt,
        busySessions: busy(),
        draining,
      };
    },
    activity() {
      return { busySessions: busy(), clients: deps.clients?.() ?? 0, keepAwake: deps.keepAwake?.() ?? [] };
    },
    close() {
      closed = true;
      for (const done of [...waits]) done();
    },
  };
}
