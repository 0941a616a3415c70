/**
 * kill -9 between storing a platform message and answering it, for the
 * channels beyond Telegram (whose own test covers the CLI too): a real
 * gateway process, the channel configured with `autoclaw config set`, the
 * answer streaming when the process dies; after the restart the answer is
 * finished in the same platform message, and the turn ran once.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../cli/cli-harness';
import { startDiscordServer } from '../testing/discord-server';
import { startMatrixServer } from '../testing/matrix-server';
import { startMattermostServer } from '../testing/mattermost-server';
import { startSlackServer } from '../testing/slack-server';
import { processSuite } from './process-harness';
import { until } from './test-kit';

/** What the test needs of a platform: settings, a DM in, and what the bot shows there. */
interface Platform {
  name: string;
  settings: Array<[string, string]>;
  dm(text: string): void;
  /** Delivers the last DM again, where the platform would (after a reconnect). */
  again(): void;
  /** The texts of the bot's messages in the DM, as shown now. */
  shown(): string[];
  close(): Promise<void>;
}

const platforms: Record<string, () => Promise<Platform>> = {
  async discord() {
    const dc = await startDiscordServer({ heartbeatIntervalMs: 1_000 });
    const user = { id: '310000000000000001', username: 'alice' };
    let last: Record<string, unknown> | null = null;
    return {
      name: 'discord',
      settings: [['discord.token', dc.token], ['discord.apiRoot', dc.apiRoot]],
      dm: (text) => void (last = dc.userMessage({ author: user, content: text })),
      again: () => last && dc.dispatch('MESSAGE_CREATE', last),
      shown: () => dc.sent.filter((m) => m.channelId === `dm-${user.id}`).map((m) => m.content),
      close: () => dc.close(),
    };
  },
  async slack() {
    const sl = await startSlackServer({ pingIntervalMs: 1_000 });
    let envelope = '';
    return {
      name: 'slack',
      settings: [['slack.botToken', sl.botToken], ['slack.appToken', sl.appToken], ['slack.apiRoot', sl.apiRoot]],
      dm: (text) => void (envelope = sl.userMessage({ user: 'U1', text }).envelopeId),
      again: () => sl.redeliver(envelope),
      shown: () => sl.sent.filter((m) => m.channel === 'DU1').map((m) => m.text),
      close: () => sl.close(),
    };
  },
  async matrix() {
    const mx = await startMatrixServer();
    mx.createRoom({ id: '!dm:local', members: ['@alice:local'] });
    return {
      name: 'matrix',
      settings: [['matrix.homeserverUrl', mx.url], ['matrix.accessToken', mx.token]],
      dm: (text) => void mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: text }),
      // A new client's first sync hands the recent events over again by itself.
      again: () => undefined,
      shown: () =>
        mx
          .sentBy('!dm:local')
          .filter((e) => !(e.content['m.relates_to'] as { rel_type?: string } | undefined)?.rel_type)
          .map((e) => mx.shownText('!dm:local', e.event_id)),
      close: () => mx.close(),
    };
  },
  async mattermost() {
    const mm = await startMattermostServer();
    const alice = { user: 'aliceid0000000000000000001', username: 'alice' };
    let last: ReturnType<typeof mm.userPost> | null = null;
    return {
      name: 'mattermost',
      settings: [['mattermost.url', mm.url], ['mattermost.token', mm.token]],
      dm: (text) => void (last = mm.userPost({ ...alice, message: text })),
      again: () => last && mm.repost(last),
      shown: () => mm.botPosts(`dm-${alice.user}`).map((p) => p.message),
      close: () => mm.close(),
    };
  },
};

const t = processSuite('autoclaw-kill-');

describe('kill -9 after a channel message is stored, before its answer', () => {
  for (const name of Object.keys(platforms)) {
    it(`${name}: answered after the restart, once, in the same message`, { timeout: 120_000 }, async () => {
      const p = await platforms[name]!();
      t.platform = p;
      await t.configure(name, [...p.settings, [`${name}.dmPolicy`, 'open']]);
      t.gw = await startGatewayProcess(t.dir, t.env());
      await t.connected(name);

      t.wire.enqueue({ kind: 'hang', textBefore: 'Thinking about it' });
      p.dm('survive this');
      await until('the partial answer on the platform', () => p.shown().some((text) => text.startsWith('Thinking')));
      const db = new Database(join(t.dir, 'gateway.db'), { readonly: true });
      try {
        await until('the partial answer and its platform message to be stored', () =>
          db.prepare("SELECT 1 FROM messages m JOIN channel_sent s ON s.message_id = m.id WHERE m.text = 'Thinking about it'").get(),
        );
      } finally {
        db.close();
      }
      await t.gw.stop('SIGKILL');
      t.gw = null;

      t.wire.enqueue({ kind: 'text', text: ', and here is the answer.' });
      t.gw = await startGatewayProcess(t.dir, t.env());
      await t.connected(name);
      p.again();
      await until('the finished answer', () => p.shown().includes('Thinking about it, and here is the answer.'), 20_000);
      expect(p.shown()).toEqual(['Thinking about it, and here is the answer.']);
      expect(t.wire.requests).toHaveLength(2);
      expect(await t.gw.stop('SIGTERM')).toBe(0);
      t.gw = null;
    });
  }
});
