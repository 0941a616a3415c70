/**
 * Microsoft Teams end to end: activities POSTed to the gateway's
 * /channels/teams/messages with JWTs signed by a test key that a local
 * OpenID metadata endpoint publishes, checked by botbuilder's
 * JwtTokenExtractor; answers through a local Bot Connector API with an app
 * token from a local token endpoint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startBotFrameworkServer, type BotFrameworkServer, type TokenKind } from '../../testing/bot-framework-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

const ALICE = { id: '29:alice-teams-id', name: 'Alice' };

let bf: BotFrameworkServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) =>
  h.connect('teams', [['teams.openIdMetadataUrl', bf.metadataUrl], ['teams.tokenUrl', bf.tokenUrl], ['teams.appId', bf.appId], ['teams.appPassword', bf.appPassword], ...extra]);
const endpoint = () => `${h.gw.url}/channels/teams/messages`;
const deliver = (activity: Record<string, unknown>, token?: TokenKind) => bf.deliver(endpoint(), activity, token);
const answer = (conversationId: string, text: string) => h.until(`"${text}"`, () => bf.activities.find((a) => a.conversationId === conversationId && a.type === 'message' && a.text === text));

beforeEach(async () => {
  bf = await startBotFrameworkServer();
  h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 2_000 } });
});

afterEach(async () => {
  await h.close();
  await bf.close();
});

describe('teams channel (Bot Framework)', () => {
  it('answers a personal message after validating its token, and makes one turn of a redelivery', async () => {
    await connect([['teams.allowFrom', ALICE.id]]);
    const activity = bf.message({ from: ALICE, text: 'hello teams' });
    expect(await deliver(activity)).toBe(200);
    const conversationId = (activity['conversation'] as { id: string }).id;
    await answer(conversationId, 'Echo: hello teams');
    await h.until('typing', () => bf.activities.find((a) => a.type === 'typing'));
    expect(await deliver(activity)).toBe(200);
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'teams')?.title).toBe('Microsoft Teams · Alice');
    // The validator (botframework-connector, on node-fetch) fetched the OpenID keys once and kept them.
    expect(bf.calls.filter((c) => c.path === '/v1/.well-known/keys' && c.userAgent.includes('node-fetch'))).toHaveLength(1);
  });

  it('refuses a missing, bad, expired or wrong-audience token and stores nothing', async () => {
    await connect([['teams.dmPolicy', 'open']]);
    // A good one first, so the keys are cached and the session exists.
    const first = bf.message({ from: ALICE, text: 'first' });
    expect(await deliver(first)).toBe(200);
    await answer((first['conversation'] as { id: string }).id, 'Echo: first');
    // The outbox marks the answer sent after the connector's reply: on a busy machine, after the line above.
    await h.until('the answer marked sent', () => {
      const dump = h.gw.gateway.store.dump();
      return dump.includes('"status":"sent"') && !dump.includes('"status":"pending"');
    });
    const before = h.gw.gateway.store.dump();
    const forged = bf.message({ from: ALICE, text: 'forged' });
    const statuses: Record<string, number> = {};
    for (const kind of ['none', 'bad-signature', 'expired', 'wrong-audience', 'wrong-issuer', 'other-service-url'] as const) statuses[kind] = await deliver(forged, kind);
    expect(statuses).toEqual({ none: 401, 'bad-signature': 401, expired: 401, 'wrong-audience': 401, 'wrong-issuer': 401, 'other-service-url': 403 });
    const garbage = await fetch(endpoint(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"message"}' });
    expect(garbage.status).toBe(401);
    expect(h.gw.gateway.store.dump()).toBe(before);
    expect(h.gw.wire.requests).toHaveLength(1);
  });

  it('in a channel answers @mentions only, in their thread', async () => {
    await connect([['teams.dmPolicy', 'open']]);
    const general = { id: '19:general@thread.tacv2', name: 'General' };
    expect(await deliver(bf.message({ from: ALICE, text: 'morning all', conversation: general }))).toBe(200);
    const asked = bf.message({ from: ALICE, text: 'weather?', conversation: general, mention: true });
    expect(await deliver(asked)).toBe(200);
    const sent = await answer(general.id, 'Echo: weather?');
    expect(sent.replyToId).toBe(asked['id']);
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'teams')?.title).toBe('Microsoft Teams · General');
  });

  it('brings a file in, sends the agent\'s file back inline, and retries a reply the connector refused', async () => {
    await connect([['teams.dmPolicy', 'open']]);
    const url = bf.hostFile(Buffer.from('bread'));
    const withFile = bf.message({
      from: ALICE,
      text: 'see attached',
      attachments: [{ contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'list.txt', content: { downloadUrl: url, uniqueId: 'u1', fileType: 'txt' } }],
    });
    const conversationId = (withFile['conversation'] as { id: string }).id;
    bf.failSends(1, 503);
    expect(await deliver(withFile)).toBe(200);
    await h.until('the answer', () => bf.activities.find((a) => a.text.startsWith('Echo: see attached')));
    expect(bf.activities.filter((a) => a.text.startsWith('Echo: see attached'))).toHaveLength(1);
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/teams\/[^ ]+list\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('bread');

    expect(await deliver(bf.message({ from: ALICE, text: '/tool workspace_write_file {"path":"shop.txt","content":"milk"}' }))).toBe(200);
    const prompt = await bf.waitFor((a) => a.text.startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/.exec(prompt.text)![1]!;
    expect(await deliver(bf.message({ from: ALICE, text: `approve ${code}` }))).toBe(200);
    const file = await bf.waitFor((a) => a.attachments.length > 0);
    expect(file.conversationId).toBe(conversationId);
    expect(file.attachments[0]).toEqual({ contentType: 'text/plain', name: 'shop.txt', contentUrl: `data:text/plain;base64,${Buffer.from('milk').toString('base64')}` });
  });

  it('is reconnecting while the Bot Framework does not answer, and connected again after', async () => {
    await connect();
    bf.unavailable(true);
    const notice = await h.waitForNotice((n) => n.title === 'Microsoft Teams is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Microsoft Teams/);
    expect((await h.status('teams')).state).not.toBe('connected');
    bf.unavailable(false);
    await h.waitForNotice((n) => n.title === 'Microsoft Teams is connected again');
  });

  it('forgets the app password when the OpenID metadata URL changes (its keys decide where answers and the app token go)', async () => {
    await connect();
    await h.set('teams.openIdMetadataUrl', `${bf.metadataUrl}?elsewhere=1`);
    const status = await h.status('teams');
    expect(status.configured).toBe(false);
    expect((await h.client.settings.get.query()).values['teams.appPassword']?.source).not.toBe('stored');
  });

  it('is down when Microsoft refuses the app password', async () => {
    await h.set('teams.tokenUrl', bf.tokenUrl);
    await h.set('teams.openIdMetadataUrl', bf.metadataUrl);
    await h.set('teams.appId', bf.appId);
    await h.set('teams.appPassword', 'wrong-password');
    await h.enable('teams');
    const status = await h.waitForState('teams', 'down');
    expect(status.lastError).toMatch(/refused the app id or password \(invalid_client\)/);
    expect(status.lastError).not.toContain('wrong-password');
    // While it does not run, its endpoint says so (503) and stores nothing.
    expect(await deliver(bf.message({ from: ALICE, text: 'hi' }))).toBe(503);
  });
});
