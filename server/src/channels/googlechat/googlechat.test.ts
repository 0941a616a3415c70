/**
 * Google Chat end to end: events POSTed to the gateway's
 * /channels/googlechat/events with bearer JWTs signed by a test key whose
 * certificate a local certs URL publishes, verified by google-auth-library;
 * answers through the real @googleapis/chat client against a local Chat API
 * with a service-account token from a local token endpoint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startGoogleChatServer, type ChatTokenKind, type GoogleChatServer } from '../../testing/google-chat-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

const ALICE = { name: 'users/111', displayName: 'Alice' };
const DM = 'spaces/dm-111';

let gc: GoogleChatServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) =>
  h.connect('googlechat', [
    ['googlechat.certsUrl', gc.certsUrl],
    ['googlechat.tokenUrl', gc.tokenUrl],
    ['googlechat.apiRoot', gc.apiRoot],
    ['googlechat.audience', gc.projectNumber],
    ['googlechat.serviceAccount', gc.serviceAccountJson],
    ...extra,
  ]);
const deliver = (event: Record<string, unknown>, token?: ChatTokenKind) => gc.deliver(`${h.gw.url}/channels/googlechat/events`, event, token);
const answer = (space: string, text: string) => h.until(`"${text}" in ${space}`, () => gc.sent.find((m) => m.space === space && m.text === text));

beforeEach(async () => {
  gc = await startGoogleChatServer();
  h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 2_000 } });
});

afterEach(async () => {
  await h.close();
  await gc.close();
});

describe('google chat channel (HTTP endpoint app)', () => {
  it('answers a DM through the Chat API after verifying the bearer token, one turn per event', async () => {
    await connect([['googlechat.allowFrom', ALICE.name]]);
    const event = gc.messageEvent({ user: ALICE, text: 'hello chat' });
    expect(await deliver(event)).toEqual({ status: 200, body: {} });
    await answer(DM, 'Echo: hello chat');
    expect((await deliver(event)).status).toBe(200);
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'googlechat')?.title).toBe('Google Chat · Alice');
  });

  it('with the endpoint URL as audience takes OpenID tokens issued to Google Chat only', async () => {
    const endpoint = `${h.gw.url}/channels/googlechat/events`;
    await h.connect('googlechat', [
      ['googlechat.certsUrl', gc.certsUrl],
      ['googlechat.tokenUrl', gc.tokenUrl],
      ['googlechat.apiRoot', gc.apiRoot],
      ['googlechat.audience', endpoint],
      ['googlechat.serviceAccount', gc.serviceAccountJson],
      ['googlechat.dmPolicy', 'open'],
    ]);
    const before = h.gw.gateway.store.dump();
    const forged = gc.messageEvent({ user: ALICE, text: 'forged' });
    const statuses: Record<string, number> = {};
    for (const kind of ['wrong-issuer', 'wrong-audience', 'expired', 'bad-signature'] as const) statuses[kind] = (await gc.deliver(endpoint, forged, kind, 'url')).status;
    // A project-number token does not fit an endpoint-URL audience.
    statuses['project'] = (await gc.deliver(endpoint, forged)).status;
    expect(statuses).toEqual({ 'wrong-issuer': 401, 'wrong-audience': 401, expired: 401, 'bad-signature': 401, project: 401 });
    expect(h.gw.gateway.store.dump()).toBe(before);
    expect((await gc.deliver(endpoint, gc.messageEvent({ user: ALICE, text: 'by url' }), 'valid', 'url')).status).toBe(200);
    await answer(DM, 'Echo: by url');
    expect(h.gw.wire.requests).toHaveLength(1);
  });

  it('answers being added to a space in the HTTP response itself', async () => {
    await connect();
    const added = await deliver({ type: 'ADDED_TO_SPACE', eventTime: new Date().toISOString(), space: { name: 'spaces/AAA', type: 'ROOM', displayName: 'Team' }, user: { ...ALICE, type: 'HUMAN' } });
    expect(added.status).toBe(200);
    expect((added.body as { text: string }).text).toMatch(/Mention me/);
  });

  it('refuses a missing, badly signed, expired or wrong-audience token and stores nothing', async () => {
    await connect([['googlechat.dmPolicy', 'open']]);
    const before = h.gw.gateway.store.dump();
    const event = gc.messageEvent({ user: ALICE, text: 'forged' });
    const statuses: Record<string, number> = {};
    for (const kind of ['none', 'bad-signature', 'expired', 'wrong-audience', 'wrong-issuer'] as const) statuses[kind] = (await deliver(event, kind)).status;
    expect(statuses).toEqual({ none: 401, 'bad-signature': 401, expired: 401, 'wrong-audience': 401, 'wrong-issuer': 401 });
    expect(h.gw.gateway.store.dump()).toBe(before);
    expect(h.gw.wire.requests).toHaveLength(0);
  });

  it('in a space answers @mentions in their thread, and brings files in', async () => {
    await connect([['googlechat.dmPolicy', 'open']]);
    const space = { name: 'spaces/AAAA', displayName: 'Team Room' };
    const asked = gc.messageEvent({ user: ALICE, text: 'weather?', space, mention: true });
    expect((await deliver(asked)).status).toBe(200);
    const sent = await answer(space.name, 'Echo: weather?');
    expect(sent.thread).toBe((asked['message'] as { thread: { name: string } }).thread.name);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'googlechat')?.title).toBe('Google Chat · Team Room');

    const resourceName = gc.hostFile(Buffer.from('bread'));
    expect((await deliver(gc.messageEvent({ user: ALICE, text: 'see attached', attachment: { resourceName, contentName: 'list.txt', contentType: 'text/plain' } }))).status).toBe(200);
    await h.until('the answer', () => gc.sent.find((m) => m.text.startsWith('Echo: see attached')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/googlechat\/[^ ]+list\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('bread');
  });

  it('retries an answer the Chat API refused, and sends it once', async () => {
    await connect([['googlechat.dmPolicy', 'open']]);
    gc.failSends(2, 503);
    expect((await deliver(gc.messageEvent({ user: ALICE, text: 'are you there' }))).status).toBe(200);
    await answer(DM, 'Echo: are you there');
    expect(gc.sent.filter((m) => m.text === 'Echo: are you there')).toHaveLength(1);
  });

  it('is reconnecting while Google does not answer, and connected again after', async () => {
    await connect();
    gc.unavailable(true);
    const notice = await h.waitForNotice((n) => n.title === 'Google Chat is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Google Chat/);
    expect((await h.status('googlechat')).state).not.toBe('connected');
    gc.unavailable(false);
    await h.waitForNotice((n) => n.title === 'Google Chat is connected again');
  });

  it('forgets the service account key when the Chat API root changes (the key\'s tokens go there)', async () => {
    await connect();
    await h.set('googlechat.apiRoot', `${gc.apiRoot}elsewhere/`);
    expect((await h.status('googlechat')).configured).toBe(false);
    expect((await h.client.settings.get.query()).values['googlechat.serviceAccount']?.source).not.toBe('stored');
  });

  it('says where a file the agent wrote is kept (a Chat app cannot upload files)', async () => {
    await connect([['googlechat.dmPolicy', 'open']]);
    expect((await deliver(gc.messageEvent({ user: ALICE, text: '/tool workspace_write_file {"path":"shop.txt","content":"milk"}' }))).status).toBe(200);
    const prompt = await gc.waitForSent((m) => m.text.startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/.exec(prompt.text)![1]!;
    expect((await deliver(gc.messageEvent({ user: ALICE, text: `approve ${code}` }))).status).toBe(200);
    await answer(DM, 'I saved shop.txt in the workspace (this channel cannot carry files).');
    expect(readFileSync(join(h.gw.dir, 'workspace', 'shop.txt'), 'utf8')).toBe('milk');
  });

  it('is down when Google refuses the service account, and checks the key it is given', async () => {
    await h.set('googlechat.tokenUrl', gc.tokenUrl);
    await h.set('googlechat.certsUrl', gc.certsUrl);
    await h.set('googlechat.audience', gc.projectNumber);
    await expect(h.set('googlechat.serviceAccount', 'not json')).rejects.toThrow(/JSON key file/);
    const other = (await startGoogleChatServer());
    await h.set('googlechat.serviceAccount', other.serviceAccountJson);
    await other.close();
    await h.enable('googlechat');
    const status = await h.waitForState('googlechat', 'down');
    expect(status.lastError).toMatch(/Google refused the service account \(invalid_grant\)/);
  });
});
