/**
 * Matrix end to end: the real matrix-js-sdk in the gateway against a local
 * homeserver speaking the client-server API (/sync long polling).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startMatrixServer, type MatrixServer } from '../../testing/matrix-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

let mx: MatrixServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => h.connect('matrix', [['matrix.homeserverUrl' as const, mx.url], ['matrix.accessToken' as const, mx.token], ...extra]);

/** The bot's message in `room` that shows `text` now (edits applied). */
const answer = (room: string, text: string) =>
  h.until(`"${text}" in ${room}`, () => mx.sentBy(room).find((e) => mx.shownText(room, e.event_id) === text && !(e.content['m.relates_to'] as { rel_type?: string } | undefined)?.rel_type));

beforeEach(async () => {
  mx = await startMatrixServer();
  h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 3_000 } });
});

afterEach(async () => {
  await h.close();
  await mx.close();
});

describe('matrix channel', () => {
  it('answers in a direct chat, streaming with edits, and does not answer old history', async () => {
    mx.createRoom({ id: '!dm:local', members: ['@alice:local'] });
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: 'from before the bot was set up' });
    await connect([['matrix.allowFrom', '@alice:local']]);
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: 'hello matrix' });
    await answer('!dm:local', 'Echo: hello matrix');
    expect(h.gw.wire.requests).toHaveLength(1);
    await mx.waitForCall((c) => c.path.startsWith('/_matrix/client/v3/rooms/!dm:local/typing/'));
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'matrix')?.title).toBe('Matrix · alice');
  });

  it('joins an invitation, pairs a stranger, and makes one turn of events a new sync replays', async () => {
    await connect();
    mx.invite({ id: '!new:local', from: '@mallory:local' });
    await mx.waitForCall((c) => c.method === 'POST' && c.path.includes('!new:local'));
    await h.until('the join', () => mx.calls.some((c) => c.path === '/_matrix/client/v3/sync' && c.at > 0));
    mx.userMessage({ room: '!new:local', sender: '@mallory:local', body: 'hi' });
    const code = await mx.waitForSent('!new:local', (e) => /pairing code is [A-Z0-9]{8}/.test(String(e.content['body'])));
    const pairing = /pairing code is ([A-Z0-9]{8})/.exec(String(code.content['body']))![1]!;
    await h.client.channels.approve.mutate({ channel: 'matrix', code: pairing });
    await mx.waitForSent('!new:local', (e) => String(e.content['body']).startsWith('You are approved'));
    mx.userMessage({ room: '!new:local', sender: '@mallory:local', body: 'now?' });
    await answer('!new:local', 'Echo: now?');
    // A new run syncs from scratch: the room's recent events come again, and none is a new turn.
    await h.client.channels.setEnabled.mutate({ name: 'matrix', enabled: false });
    await h.enable('matrix');
    await h.waitForState('matrix', 'connected');
    mx.userMessage({ room: '!new:local', sender: '@mallory:local', body: 'still one each?' });
    await answer('!new:local', 'Echo: still one each?');
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('in a room answers only when mentioned, as a reply', async () => {
    mx.createRoom({ id: '!team:local', members: ['@alice:local', '@bob:local'], name: 'Team' });
    await connect([['matrix.dmPolicy', 'open']]);
    mx.userMessage({ room: '!team:local', sender: '@alice:local', body: 'lunch?' });
    const asked = mx.userMessage({ room: '!team:local', sender: '@bob:local', body: 'what is 2+2', mention: true });
    const sent = await answer('!team:local', 'Echo: what is 2+2');
    expect((sent.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: string } })['m.in_reply_to']?.event_id).toBe(asked.event_id);
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'matrix')?.title).toBe('Matrix · Team');
  });

  it('reconnects when /sync stops answering, and tells the user', async () => {
    mx.createRoom({ id: '!dm:local', members: ['@alice:local'] });
    await connect([['matrix.dmPolicy', 'open']]);
    mx.stall(true);
    const notice = await h.waitForNotice((n) => n.title === 'Matrix is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Matrix/);
    mx.stall(false);
    await h.waitForNotice((n) => n.title === 'Matrix is connected again');
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: 'missed me?' });
    await answer('!dm:local', 'Echo: missed me?');
  });

  it('brings files in, takes approvals by reply command, and uploads the file the agent wrote', async () => {
    mx.createRoom({ id: '!dm:local', members: ['@alice:local'] });
    await connect([['matrix.dmPolicy', 'open']]);
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: 'recipe.txt', file: { name: 'recipe.txt', bytes: Buffer.from('flour, eggs'), mimetype: 'text/plain' } });
    await h.until('the answer', () => mx.sentBy('!dm:local').some((e) => String(e.content['body']).includes('attached file')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/matrix\/[^ ]+recipe\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('flour, eggs');

    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: '/tool workspace_write_file {"path":"menu.txt","content":"soup"}' });
    const prompt = await mx.waitForSent('!dm:local', (e) => String(e.content['body']).startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/.exec(String(prompt.content['body']))![1]!;
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: `approve ${code}` });
    const file = await mx.waitForSent('!dm:local', (e) => e.content['msgtype'] === 'm.file');
    expect(file.content['body']).toBe('menu.txt');
    await answer('!dm:local', 'Tool workspace_write_file returned: Wrote 4 bytes to menu.txt');

    // A picture goes as one clients show inline.
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: '/tool workspace_write_file {"path":"plot.png","content":"pixels"}' });
    const second = await mx.waitForSent('!dm:local', (e) => String(e.content['body']).startsWith('Allow workspace_write_file?') && String(e.content['body']).includes('plot.png'));
    mx.userMessage({ room: '!dm:local', sender: '@alice:local', body: `approve ${/approve ([a-z0-9]+)/.exec(String(second.content['body']))![1]!}` });
    const image = await mx.waitForSent('!dm:local', (e) => e.content['body'] === 'plot.png');
    expect(image.content['msgtype']).toBe('m.image');
    expect((image.content['info'] as { mimetype: string }).mimetype).toBe('image/png');
  });

  it('is down when the access token is refused', async () => {
    await h.set('matrix.homeserverUrl', mx.url);
    await h.set('matrix.accessToken', 'syt_wrong');
    await h.enable('matrix');
    const status = await h.waitForState('matrix', 'down');
    expect(status.lastError).toMatch(/refused the access token/);
  });
});
