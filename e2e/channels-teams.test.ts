/**
 * The Channels page in Chromium: Microsoft Teams set up through the page
 * against a local Bot Framework (OpenID metadata, token endpoint, connector),
 * then an activity signed with its test key answered, and an unsigned one
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBotFrameworkServer, type BotFrameworkServer } from '../server/src/testing/bot-framework-server';
import { startHarness, type Harness } from './support/harness';
import { openAndPair } from './support/webchat';

const ALICE = { id: '29:alice-e2e', name: 'Alice' };

describe('Channels page: Microsoft Teams', () => {
  let h: Harness;
  let bf: BotFrameworkServer;
  let page: Page;

  beforeAll(async () => {
    bf = await startBotFrameworkServer();
    h = await startHarness();
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
    await bf?.close();
  });

  const state = () => page.getByRole('status', { name: 'Microsoft Teams state' });
  const save = async (label: string, value: string) => {
    await page.getByRole('textbox', { name: label }).fill(value);
    await page.getByRole('button', { name: `Save ${label}` }).click();
  };

  it('shows the set-up steps with the messaging endpoint, and is down until configured', async () => {
    await page.getByRole('button', { name: 'Channels' }).click();
    await page.getByRole('tab', { name: /Microsoft Teams/ }).click();
    await state().filter({ hasText: 'Disabled' }).waitFor();
    await page.getByText('/channels/teams/messages').waitFor();
    await page.getByRole('button', { name: 'Enable Microsoft Teams' }).click();
    await state().filter({ hasText: /Down: not configured: set teams\.appId, teams\.appPassword/ }).waitFor();
  });

  it('takes the endpoints, app id and write-only password, and connects', async () => {
    await page.getByText('Advanced').click();
    await save('Token endpoint', bf.tokenUrl);
    await save('Bot Framework OpenID metadata URL', bf.metadataUrl);
    await save('Microsoft App ID', bf.appId);
    const password = page.getByRole('textbox', { name: 'App password (client secret)' });
    expect(await password.getAttribute('type')).toBe('password');
    await save('App password (client secret)', bf.appPassword);
    await page.getByTestId('status-teams.appPassword').filter({ hasText: /^set$/ }).waitFor();
    expect(await password.inputValue()).toBe('');
    await state().filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    expect(await page.content()).not.toContain(bf.appPassword);
  });

  it('answers an activity the Bot Framework signed, refuses an unsigned one, and lists the chat as a session', async () => {
    const endpoint = `${h.baseUrl}/channels/teams/messages`;
    expect(await bf.deliver(endpoint, bf.message({ from: ALICE, text: 'unsigned' }), 'none')).toBe(401);
    // The stranger gets a pairing code (default policy); approve it in the page, then it is answered.
    expect(await bf.deliver(endpoint, bf.message({ from: ALICE, text: 'hello from teams' }))).toBe(200);
    const prompt = await bf.waitFor((a) => /pairing code is [A-Z0-9]{8}/.test(a.text), 15_000);
    const code = /pairing code is ([A-Z0-9]{8})/.exec(prompt.text)![1]!;
    await page.getByRole('list', { name: 'Pending pairings' }).getByText(code).waitFor();
    await page.getByRole('button', { name: 'Approve Alice' }).click();
    await page.getByRole('list', { name: 'Approved senders' }).getByText('Alice', { exact: true }).waitFor();
    expect(await bf.deliver(endpoint, bf.message({ from: ALICE, text: 'and now?' }))).toBe(200);
    await expect.poll(() => bf.activities.find((a) => a.text === 'Echo: and now?')?.conversationId, { timeout: 15_000 }).toBe(`a:personal-${ALICE.id}`);
    expect(h.wire.requests.every((r) => !JSON.stringify(r.body).includes('unsigned'))).toBe(true);
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('Microsoft Teams · Alice').waitFor();
  });
});
