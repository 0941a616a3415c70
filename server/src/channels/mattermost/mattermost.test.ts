/**
 * Mattermost end to end: the real @mattermost/client (WebSocketClient and
 * Client4's routes) in the gateway against a local Mattermost (WebSocket
 * events + REST v4).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startMattermostServer, type MattermostServer } from '../../testing/mattermost-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

let mm: MattermostServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => h.connect('mattermost', [['mattermost.url' as const, mm.url], ['mattermost.token' as const, mm.token], ...extra]);
const answer = (channel: string, text: string) => h.until(`"${text}" in ${channel}`, () => mm.botPosts(channel).find((p) => p.message === text));
const ALICE = { user: 'aliceid0000000000000000001', username: 'alice' };

beforeEach(async () => {
  mm = await startMattermostServer();
  h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 2_000 } });
});

afterEach(async () => {
  await h.close();
  await mm.close();
});

describe('mattermost channel', () => {
  it('answers a direct message, streaming with patches and a typing indicator', async () => {
    await connect([['mattermost.allowFrom', ALICE.user]]);
    expect(mm.actions[0]).toEqual({ action: 'authentication_challenge', data: { token: mm.token } });
    mm.userPost({ ...ALICE, message: 'hello mattermost' });
    await answer(`dm-${ALICE.user}`, 'Echo: hello mattermost');
    await h.until('typing', () => mm.actions.find((a) => a.action === 'user_typing'));
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'mattermost')?.title).toBe('Mattermost · alice');
  });

  it('makes one turn of a post delivered twice, and pairs strangers', async () => {
    await connect([['mattermost.allowFrom', ALICE.user]]);
    const post = mm.userPost({ ...ALICE, message: 'once' });
    mm.repost(post);
    await answer(`dm-${ALICE.user}`, 'Echo: once');
    mm.userPost({ ...ALICE, message: 'twice?' });
    await answer(`dm-${ALICE.user}`, 'Echo: twice?');
    expect(h.gw.wire.requests).toHaveLength(2);
    mm.userPost({ user: 'strangerid0000000000000001', username: 'stranger', message: 'hey' });
    await mm.waitForPost((p) => /pairing code is [A-Z0-9]{8}/.test(p.message));
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('in a channel answers mentions only, in their thread', async () => {
    await connect([['mattermost.dmPolicy', 'open']]);
    const town = { id: 'townsquare00000000000000001', type: 'O' as const, name: 'Town Square' };
    mm.userPost({ ...ALICE, channel: town, message: 'morning all' });
    const asked = mm.userPost({ ...ALICE, channel: town, message: 'weather?', mention: true });
    const sent = await answer(town.id, 'Echo: weather?');
    expect(sent.root_id).toBe(asked.id);
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'mattermost')?.title).toBe('Mattermost · Town Square');
  });

  it('reconnects when pings stop being answered, and tells the user', async () => {
    await connect([['mattermost.dmPolicy', 'open']]);
    mm.silence(true);
    const notice = await h.waitForNotice((n) => n.title === 'Mattermost is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Mattermost/);
    mm.silence(false);
    await h.waitForNotice((n) => n.title === 'Mattermost is connected again');
    mm.userPost({ ...ALICE, message: 'back?' });
    await answer(`dm-${ALICE.user}`, 'Echo: back?');
  });

  it('brings files in, takes approvals by reply command, and uploads the file the agent wrote', async () => {
    await connect([['mattermost.dmPolicy', 'open']]);
    mm.userPost({ ...ALICE, message: 'see attached', file: { name: 'list.txt', bytes: Buffer.from('bread') } });
    await h.until('the answer', () => mm.botPosts().find((p) => p.message.startsWith('Echo: see attached')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/mattermost\/[^ ]+list\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('bread');

    mm.userPost({ ...ALICE, message: '/tool workspace_write_file {"path":"shop.txt","content":"milk"}' });
    const prompt = await mm.waitForPost((p) => p.message.startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/.exec(prompt.message)![1]!;
    mm.userPost({ ...ALICE, message: `approve ${code}` });
    const file = await mm.waitForPost((p) => p.file_ids.length > 0);
    expect(file.channel_id).toBe(`dm-${ALICE.user}`);
    await answer(`dm-${ALICE.user}`, 'Tool workspace_write_file returned: Wrote 4 bytes to shop.txt');
  });

  it('is down when the token is refused', async () => {
    await h.set('mattermost.url', mm.url);
    await h.set('mattermost.token', 'wrong');
    await h.enable('mattermost');
    const status = await h.waitForState('mattermost', 'down');
    expect(status.lastError).toMatch(/Mattermost refused the token/);
  });
});
