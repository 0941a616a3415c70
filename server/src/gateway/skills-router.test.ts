/**
 * skills.* over the real control plane: a gateway with a vetted skills
 * folder, a paired device, and Google sign-in coming back to the gateway's
 * own /oauth/callback (WebChat on the same machine).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGoogleApiServer } from '../testing';
import { skillsFixture } from '../skills/test-skills';
import { startTestGateway } from './test-kit';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('skills procedures', () => {
  it('lists, enables, stores secrets it never shows back, and connects Google through the gateway\'s loopback callback', async () => {
    const google = await startGoogleApiServer();
    cleanups.push(() => google.close());
    const skills = skillsFixture([], { bundled: ['gmail', 'weather'] });
    cleanups.push(() => skills.remove());
    const gw = await startTestGateway({ config: { skillsDir: skills.dir, skillsPubkeys: [skills.key.publicKey] } });
    cleanups.push(() => gw.close());
    const { client } = gw.connect(gw.addDevice());

    expect((await client.skills.list.query()).map((s) => [s.name, s.state])).toEqual([
      ['gmail', 'disabled'],
      ['weather', 'disabled'],
    ]);
    expect((await client.skills.enable.mutate({ name: 'gmail' })).state).toBe('enabled');
    for (const [setting, value] of [
      ['apiRoot', google.url],
      ['authEndpoint', `${google.url}/o/oauth2/v2/auth`],
      ['tokenEndpoint', `${google.url}/token`],
      ['clientId', google.clientId],
    ] as const) {
      await client.skills.setSetting.mutate({ name: 'gmail', setting, value });
    }
    const withSecret = await client.skills.setSecret.mutate({ name: 'gmail', secret: 'clientSecret', value: google.clientSecret });
    expect(withSecret.secrets).toEqual([{ name: 'clientSecret', label: 'OAuth client secret (Google Cloud "Desktop app" client)', set: true }]);
    expect(JSON.stringify(await client.skills.list.query())).not.toContain(google.clientSecret);
    await expect(client.skills.setSecret.mutate({ name: 'gmail', secret: 'other', value: 'x' })).rejects.toThrow(/has no secret other/);

    const { authUrl, redirectUri } = await client.skills.oauthStart.mutate({ name: 'gmail' });
    expect(redirectUri).toBe(`${gw.url}/oauth/callback`);
    // The system browser follows Google's redirect back to the gateway.
    const page = await fetch(authUrl);
    expect(await page.text()).toContain('Your Google account is connected to the gmail skill. You can close this tab.');
    expect((await client.skills.list.query())[0]!.oauth).toEqual({ provider: 'google', connected: true });
    // Replaying the callback does nothing.
    expect(await (await fetch(page.url)).text()).toContain('this sign-in is unknown or expired');
    expect((await client.skills.oauthDisconnect.mutate({ name: 'gmail' })).oauth).toEqual({ provider: 'google', connected: false });
  });

  it('refuses a redirect that is not loopback, an unknown skill, and bad input with a typed error', async () => {
    const skills = skillsFixture([], { bundled: ['gmail'] });
    cleanups.push(() => skills.remove());
    const gw = await startTestGateway({ config: { skillsDir: skills.dir, skillsPubkeys: [skills.key.publicKey] } });
    cleanups.push(() => gw.close());
    const { client } = gw.connect(gw.addDevice());
    await client.skills.list.query();
    const before = gw.gateway.store.dump();
    await expect(client.skills.oauthStart.mutate({ name: 'gmail', redirectUri: 'https://evil.example/cb' })).rejects.toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
    await expect(client.skills.enable.mutate({ name: 'nope' })).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
    await expect(client.skills.enable.mutate({ name: 'Not A Name' })).rejects.toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
    await expect(client.skills.revokeApproval.mutate({ id: 'nope' })).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
    expect(gw.gateway.store.dump()).toBe(before);
  });
});

describe('skills procedures and device roles', () => {
  it('a chat-only device sees the skills but changes nothing, and may approve a call only once', async () => {
    const skills = skillsFixture([], { bundled: ['weather'] });
    cleanups.push(() => skills.remove());
    const gw = await startTestGateway({ config: { skillsDir: skills.dir, skillsPubkeys: [skills.key.publicKey] } });
    cleanups.push(() => gw.close());
    const { client } = gw.connect(gw.addDevice('phone', 'chat'));
    expect((await client.skills.list.query()).map((s) => s.name)).toEqual(['weather']);
    const before = gw.gateway.store.dump();
    await expect(client.skills.enable.mutate({ name: 'weather' })).rejects.toMatchObject({ data: { appCode: 'FORBIDDEN' } });
    await expect(client.skills.setSetting.mutate({ name: 'weather', setting: 'apiRoot', value: 'http://127.0.0.1:9' })).rejects.toMatchObject({
      data: { appCode: 'FORBIDDEN' },
    });
    await expect(client.chat.approve.mutate({ toolCallId: 'tc_whatever', approve: true, scope: 'always' })).rejects.toMatchObject({
      data: { appCode: 'FORBIDDEN' },
    });
    expect(gw.gateway.store.dump()).toBe(before);
  });
});
