/**
 * Slack end to end: the real @slack/bolt (Socket Mode) in the gateway
 * against a local Slack (Web API + Socket Mode WebSocket).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startSlackServer, type SlackServer } from '../../testing/slack-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

let sl: SlackServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => h.connect('slack', [['slack.botToken' as const, sl.botToken], ['slack.appToken' as const, sl.appToken], ['slack.apiRoot' as const, sl.apiRoot], ...extra]);

const answer = (channel: string, text: string) => h.until(`"${text}" in ${channel}`, () => sl.sent.find((m) => m.channel === channel && m.text === text));

beforeEach(async () => {
  sl = await startSlackServer({ pingIntervalMs: 300 });
  h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 1_500 } });
});

afterEach(async () => {
  await h.close();
  await sl.close();
});

describe('slack channel', () => {
  it('answers a DM, acknowledging the envelope only after the message is stored', async () => {
    await connect([['slack.allowFrom', 'U1']]);
    const { envelopeId } = sl.userMessage({ user: 'U1', text: 'hello slack' });
    await answer('DU1', 'Echo: hello slack');
    const session = (await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'slack')!;
    expect(session.title).toBe('Slack · Person U1');
    const [user] = await h.client.chat.history.query({ sessionId: session.id });
    expect(sl.acks.get(envelopeId)).toBeGreaterThanOrEqual(user!.createdAt);
  });

  it('makes one turn of an envelope delivered again, and pairs strangers', async () => {
    await connect([['slack.allowFrom', 'U1']]);
    const { envelopeId } = sl.userMessage({ user: 'U1', text: 'just once' });
    sl.redeliver(envelopeId);
    await answer('DU1', 'Echo: just once');
    sl.userMessage({ user: 'U1', text: 'after' });
    await answer('DU1', 'Echo: after');
    expect(h.gw.wire.requests).toHaveLength(2);
    sl.userMessage({ user: 'U9', text: 'hi' });
    await sl.waitForSent((m) => m.channel === 'DU9' && /pairing code is [A-Z0-9]{8}/.test(m.text));
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('answers a mention in its thread, one session per thread', async () => {
    await connect([['slack.dmPolicy', 'open']]);
    const first = sl.userMessage({ user: 'U1', channel: 'C1', text: 'summarize please', mention: true });
    const sent = await answer('C1', 'Echo: summarize please');
    expect(sent.threadTs).toBe(first.ts);
    sl.userMessage({ user: 'U2', channel: 'C1', text: 'and more', mention: true, threadTs: first.ts });
    const second = await answer('C1', 'Echo: and more');
    expect(second.threadTs).toBe(first.ts);
    sl.userMessage({ user: 'U1', channel: 'C1', text: 'new topic', mention: true });
    await answer('C1', 'Echo: new topic');
    expect((await h.client.sessions.list.query()).sessions.filter((s) => s.channel === 'slack')).toHaveLength(2);
  });

  it('reconnects when the socket stays open but pings and pongs stop, and tells the user', async () => {
    await connect([['slack.dmPolicy', 'open']]);
    sl.silence(true);
    const notice = await h.waitForNotice((n) => n.title === 'Slack is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Slack/);
    sl.silence(false);
    await h.waitForNotice((n) => n.title === 'Slack is connected again');
    await h.waitForState('slack', 'connected');
    sl.userMessage({ user: 'U1', text: 'there?' });
    await answer('DU1', 'Echo: there?');
  });

  it('waits as long as a 429 says before posting again', async () => {
    await connect([['slack.dmPolicy', 'open']]);
    sl.rateLimit('chat.postMessage', 1, 2);
    sl.userMessage({ user: 'U1', text: 'patience' });
    await answer('DU1', 'Echo: patience');
    const posts = sl.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts).toHaveLength(3);
    expect(posts[2]!.at - posts[1]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('brings files in, asks with buttons, and uploads the file the agent wrote', async () => {
    await connect([['slack.dmPolicy', 'open']]);
    sl.userMessage({ user: 'U1', text: 'read this', file: { name: 'todo.txt', bytes: Buffer.from('water plants'), mimetype: 'text/plain' } });
    await h.until('the answer', () => sl.sent.find((m) => m.text.startsWith('Echo: read this')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/slack\/DU1\/[^ ]+todo\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('water plants');

    sl.userMessage({ user: 'U1', text: '/tool workspace_write_file {"path":"out/plan.txt","content":"step 1"}' });
    const prompt = await sl.waitForSent((m) => m.text.startsWith('Allow workspace_write_file?'));
    const actions = (prompt.blocks[1] as { elements: Array<{ action_id: string; value: string }> }).elements;
    expect(actions.map((a) => a.action_id)).toEqual(['ap:y', 'ap:n']);
    const press = sl.pressButton({ user: 'U1', channel: 'DU1', ts: prompt.ts, actionId: 'ap:y', value: actions[0]!.value });
    const upload = await sl.waitForSent((m) => m.files.length > 0);
    expect(upload.files[0]).toMatchObject({ name: 'plan.txt' });
    expect(upload.files[0]!.bytes.toString('utf8')).toBe('step 1');
    await h.until('the prompt to show the answer', () => prompt.text.endsWith('✅ Approved'));
    await h.until('the press to be acknowledged', () => sl.acks.has(press));
  });

  it('is down when the app token is refused', async () => {
    await h.set('slack.apiRoot', sl.apiRoot);
    await h.set('slack.botToken', sl.botToken);
    await h.set('slack.appToken', 'xapp-wrong');
    await h.enable('slack');
    const status = await h.waitForState('slack', 'down');
    expect(status.lastError).toMatch(/Slack refused the token \(invalid_auth\)/);
  });
});
