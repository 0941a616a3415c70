/**
 * A warm standby's rehearsal: before any instance is handed to it, it starts
 * a throwaway gateway on a directory of its own (a fresh store, a random
 * key, loopback, port 0), talks to it the way a woken instance's first
 * client does (challenge, device auth over the WebSocket, tRPC calls that
 * read and write the store, a chat subscription, a message whose turn runs
 * to its end) and closes it. Everything
 * the real start and the first client would do for the first time in this
 * process — module initialisation, fastify's plugin and route set-up, the
 * tRPC router, zod schemas, the engine's compiled code — is done while
 * nobody waits, so after the handover the gateway only opens its store,
 * binds and signals ready. A rehearsal that fails is logged and skipped: a
 * standby still serves, only less warm.
 */
import { randomBytes } from 'node:crypto';
import { rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayConfig } from '../gateway';
import type { GatewayConfig, GatewayOptions, RunningGateway } from '../gateway';
import { ensureOperatorDevice } from '../security';
import { connectAsDevice } from './gateway-client';

type StartGateway = (config: GatewayConfig, options?: GatewayOptions) => Promise<RunningGateway>;

export const REHEARSAL_DIR = 'rehearsal';
const silentLogger: NonNullable<GatewayOptions['logger']> = { debug() {}, info() {}, warn() {}, error() {} };

/** Runs the rehearsal under `standbyDir` and removes what it made; the steps it went through, in order. */
export async function rehearseStart(startGateway: StartGateway, standbyDir: string): Promise<string[]> {
  const dir = join(standbyDir, REHEARSAL_DIR);
  const steps: string[] = [];
  const key = randomBytes(32);
  let gateway: RunningGateway | null = null;
  try {
    gateway = await startGateway(parseGatewayConfig(['--data', dir, '--host', '127.0.0.1', '--port', '0']), { dataKey: key, logger: silentLogger });
    steps.push('started');
    const conn = connectAsDevice({ url: gateway.url, key: ensureOperatorDevice(gateway.store, dir), maxConnectAttempts: 1 });
    try {
      const session = await conn.call(conn.client.sessions.create.mutate({}));
      await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
      // A message sent and its turn run to its end (with no provider key it ends at once, failed: no outside call).
      let sub: { unsubscribe(): void } | null = null;
      let subscribed: () => void = () => {};
      const ended = new Promise<void>((resolve, reject) => {
        sub = conn.client.chat.events.subscribe(
          { sessionId: session.id },
          {
            onStarted: () => subscribed(),
            onData: ({ data }) => {
              if (data.type === 'message' && data.message.role === 'user' && !['queued', 'running'].includes(data.message.status)) resolve();
            },
            onError: reject,
          },
        );
      });
      await conn.call(
        new Promise<void>((resolve) => {
          subscribed = resolve;
        }),
      );
      await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'rehearsal-0001', text: 'rehearsal' }));
      await conn.call(ended);
      (sub as { unsubscribe(): void } | null)?.unsubscribe();
      steps.push('client');
    } finally {
      await conn.close();
    }
  } finally {
    if (gateway) await gateway.close();
    key.fill(0);
    rmSync(dir, { recursive: true, force: true });
    // Handed over meanwhile, the manager removed the standby's directory and the start above made it again: empty, it goes.
    try {
      rmdirSync(standbyDir);
    } catch {
      // not empty (its log is there: not handed over yet) or gone
    }
    steps.push('closed');
  }
  return steps;
}
