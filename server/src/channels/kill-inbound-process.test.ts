/**
 * kill -9 between acknowledging a platform's message and answering it, for
 * the channels the platform calls (iMessage webhooks from BlueBubbles, Teams
 * activities, Google Chat events): a real gateway process configured with
 * `autoclaw config set`, the message acknowledged (2xx) and its answer
 * streaming when the process dies. A message sent while the gateway is dead
 * comes later — Teams and Google Chat deliver again after a failed request,
 * BlueBubbles is caught up from the stored cursor — and the acknowledged one
 * is delivered once more. After the restart on the same address every
 * acknowledged message is stored once and answered once.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../cli/cli-harness';
import { startBlueBubblesServer } from '../testing/bluebubbles-server';
import { startBotFrameworkServer } from '../testing/bot-framework-server';
import { startGoogleChatServer } from '../testing/google-chat-server';
import { processSuite } from './process-harness';
import { until } from './test-kit';

/** A DM with a file whose first download gets no answer: the request waits while the message is being stored. */
interface HeldDelivery {
  /** The HTTP status the platform gets (0: nobody answered). */
  delivered: Promise<number>;
  again(base: string): Promise<number>;
  /** The gateway asked for the file. */
  asked(): boolean;
}

/** One message as the platform delivered it: its HTTP status, and a delivery of it once more. */
interface Delivered {
  status: number;
  again(base: string): Promise<number>;
}

interface Platform {
  name: string;
  /** Settings for a gateway reachable at `base`. */
  settings(base: string): Array<[string, string]>;
  /** A DM from a user, delivered to the gateway at `base` (status 0: nobody answered). */
  dm(base: string, text: string): Promise<Delivered>;
  /** The platform delivers a failed request again by itself (Teams, Google Chat); else it is fetched (BlueBubbles). */
  retries: boolean;
  /** The answer streams into a platform message before it ends (edits). */
  streams: boolean;
  /** The texts of the bot's messages in the DM, as shown now. */
  shown(): string[];
  /** Platforms that wait for the answer to each request: a DM with a held file. */
  heldFile?(base: string, text: string): HeldDelivery;
  close(): Promise<void>;
}

const unreachable = (err: unknown) => (err instanceof TypeError ? 0 : Promise.reject(err));

const platforms: Record<string, () => Promise<Platform>> = {
  async imessage() {
    const bb = await startBlueBubblesServer();
    const address = '+15550001111';
    const statusOf = (statuses: number[]) => (statuses.length === 1 ? statuses[0]! : -1);
    return {
      name: 'imessage',
      settings: (base) => [['imessage.url', bb.url], ['imessage.password', bb.password], ['imessage.webhookUrl', base]],
      async dm(_base, text) {
        const { message, statuses } = await bb.userMessage({ address, text });
        const again = async (): Promise<number> => statusOf(await bb.redeliver(message));
        return { status: statusOf(statuses), again };
      },
      retries: false,
      streams: false,
      shown: () => bb.sent(`iMessage;-;${address}`).map((m) => m.text),
      close: () => bb.close(),
    };
  },
  async teams() {
    const bf = await startBotFrameworkServer();
    const alice = { id: '29:alice-kill', name: 'Alice' };
    const endpoint = (base: string) => `${base}/channels/teams/messages`;
    return {
      name: 'teams',
      settings: () => [['teams.tokenUrl', bf.tokenUrl], ['teams.openIdMetadataUrl', bf.metadataUrl], ['teams.appId', bf.appId], ['teams.appPassword', bf.appPassword]],
      async dm(base, text) {
        const activity = bf.message({ from: alice, text });
        const again = (b: string) => bf.deliver(endpoint(b), activity).catch(unreachable);
        return { status: await again(base), again };
      },
      retries: true,
      streams: true,
      shown: () => bf.activities.filter((a) => a.type === 'message' && a.conversationId === `a:personal-${alice.id}`).map((a) => a.text),
      heldFile(base, text) {
        const url = bf.hostFile(Buffer.from('bread'), { holdFirst: true });
        const info = { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'list.txt', content: { downloadUrl: url, uniqueId: 'u1', fileType: 'txt' } };
        const activity = bf.message({ from: alice, text, attachments: [info] });
        const again = (b: string) => bf.deliver(endpoint(b), activity).catch(unreachable);
        return { delivered: again(base), again, asked: () => bf.calls.some((c) => url.endsWith(c.path)) };
      },
      close: () => bf.close(),
    };
  },
  async googlechat() {
    const gc = await startGoogleChatServer();
    const alice = { name: 'users/111', displayName: 'Alice' };
    const endpoint = (base: string) => `${base}/channels/googlechat/events`;
    return {
      name: 'googlechat',
      settings: () => [
        ['googlechat.tokenUrl', gc.tokenUrl],
        ['googlechat.certsUrl', gc.certsUrl],
        ['googlechat.apiRoot', gc.apiRoot],
        ['googlechat.audience', gc.projectNumber],
        ['googlechat.serviceAccount', gc.serviceAccountJson],
      ],
      async dm(base, text) {
        const event = gc.messageEvent({ user: alice, text });
        const again = (b: string) =>
          gc
            .deliver(endpoint(b), event)
            .then((r) => r.status)
            .catch(unreachable);
        return { status: await again(base), again };
      },
      retries: true,
      streams: true,
      shown: () => gc.sent.filter((m) => m.space === 'spaces/dm-111').map((m) => m.text),
      heldFile(base, text) {
        const resourceName = gc.hostFile(Buffer.from('bread'), { holdFirst: true });
        const event = gc.messageEvent({ user: alice, text, attachment: { resourceName, contentName: 'list.txt', contentType: 'text/plain' } });
        const again = (b: string) =>
          gc
            .deliver(endpoint(b), event)
            .then((r) => r.status)
            .catch(unreachable);
        return { delivered: again(base), again, asked: () => gc.downloads.includes(resourceName) };
      },
      close: () => gc.close(),
    };
  },
};

const t = processSuite('autoclaw-kill-inbound-');

/** A loopback port nobody listens on now: the gateway keeps it across the restart (the platform knows one address). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function stored<T>(query: string, ...params: unknown[]): T {
  const db = new Database(join(t.dir, 'gateway.db'), { readonly: true });
  try {
    return db.prepare(query).get(...params) as T;
  } finally {
    db.close();
  }
}

describe('kill -9 after a platform message is acknowledged, before its answer', () => {
  for (const name of Object.keys(platforms)) {
    it(`${name}: every acknowledged message stored once and answered once after the restart`, { timeout: 120_000 }, async () => {
      const p = await platforms[name]!();
      t.platform = p;
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      await t.configure(name, [...p.settings(base), [`${name}.dmPolicy`, 'open']]);
      t.gw = await startGatewayProcess(t.dir, t.env(), ['--port', String(port)]);
      expect(t.gw.url).toBe(base);
      await t.connected(name, 40_000);

      t.wire.enqueue({ kind: 'hang', textBefore: 'Thinking about it' });
      const first = await p.dm(base, 'survive this');
      // Acknowledged: the platform will not deliver it again by itself.
      expect(first.status).toBe(200);
      if (p.streams) await until('the partial answer on the platform', () => p.shown().some((text) => text.startsWith('Thinking')), 30_000);
      await until(
        'the partial answer to be stored',
        () =>
          stored(
            p.streams
              ? "SELECT 1 AS one FROM messages m JOIN channel_sent s ON s.message_id = m.id WHERE m.text = 'Thinking about it'"
              : "SELECT 1 AS one FROM messages WHERE text = 'Thinking about it'",
          ),
        30_000,
      );
      await t.gw.stop('SIGKILL');
      t.gw = null;

      // Sent while the gateway is dead: nobody acknowledges it.
      const missed = await p.dm(base, 'sent while down');
      expect(missed.status).not.toBe(200);

      t.wire.enqueue({ kind: 'text', text: ', and here is the answer.' });
      t.gw = await startGatewayProcess(t.dir, t.env(), ['--port', String(port)]);
      await t.connected(name, 40_000);
      // The acknowledged message once more (a platform's redelivery): no second turn.
      expect(await first.again(base)).toBe(200);
      if (p.retries) expect(await missed.again(base)).toBe(200);

      await until('both answers', () => p.shown().includes('Thinking about it, and here is the answer.') && p.shown().includes('Echo: sent while down'), 40_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; shown: ${JSON.stringify(p.shown())}; gateway stderr: ${t.gw?.stderr().slice(-2000)}`);
      });
      expect(p.shown()).toEqual(['Thinking about it, and here is the answer.', 'Echo: sent while down']);
      expect(t.wire.requests).toHaveLength(3);
      const counts = stored<{ survive: number; missed: number; inbound: number }>(
        `SELECT (SELECT COUNT(*) FROM messages WHERE role = 'user' AND text = 'survive this') AS survive,
                (SELECT COUNT(*) FROM messages WHERE role = 'user' AND text = 'sent while down') AS missed,
                (SELECT COUNT(*) FROM channel_inbound WHERE channel = ?) AS inbound`,
        name,
      );
      expect(counts).toEqual({ survive: 1, missed: 1, inbound: 2 });
      expect(await t.gw.stop('SIGTERM')).toBe(0);
      t.gw = null;
    });
  }
});

describe('kill -9 while a message is being stored, before the platform got an answer', () => {
  // The platforms that wait for each request's answer (BlueBubbles posts and forgets: its catch-up is tested above).
  for (const name of ['teams', 'googlechat']) {
    it(`${name}: not acknowledged, so the platform's retry after the restart stores it and it is answered once`, { timeout: 120_000 }, async () => {
      const p = await platforms[name]!();
      t.platform = p;
      if (!p.heldFile) throw new Error(`${name} cannot hold a file`);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      await t.configure(name, [...p.settings(base), [`${name}.dmPolicy`, 'open']]);
      t.gw = await startGatewayProcess(t.dir, t.env(), ['--port', String(port)]);
      await t.connected(name, 40_000);

      const held = p.heldFile(base, 'see attached');
      let answered = false;
      void held.delivered.then(() => (answered = true));
      await until('the file to be fetched', held.asked, 30_000);
      // The message is being stored (its file fetched): the platform has no answer yet, and nothing is stored.
      expect(answered).toBe(false);
      expect(stored("SELECT 1 AS one FROM messages WHERE role = 'user' AND text LIKE 'see attached%'")).toBeUndefined();
      await t.gw.stop('SIGKILL');
      t.gw = null;
      expect(await held.delivered).toBe(0);

      t.gw = await startGatewayProcess(t.dir, t.env(), ['--port', String(port)]);
      await t.connected(name, 40_000);
      // The platform delivers a request that got no 2xx again.
      expect(await held.again(base)).toBe(200);
      await until('the answer', () => p.shown().some((text) => text.startsWith('Echo: see attached')), 40_000);
      expect(await held.again(base)).toBe(200);
      expect(p.shown().filter((text) => text.startsWith('Echo: see attached'))).toHaveLength(1);
      expect(t.wire.requests).toHaveLength(1);
      expect(stored<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE role = 'user' AND text LIKE 'see attached%'")).toEqual({ n: 1 });
      expect(await t.gw.stop('SIGTERM')).toBe(0);
      t.gw = null;
    });
  }
});
