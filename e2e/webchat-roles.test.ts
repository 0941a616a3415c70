/**
 * Device roles in WebChat (issue 8, item 4): the first browser pairs as the
 * owner, a second one (a default code) for chat only. The chat-only browser
 * chats, but its settings are disabled with an explanation and it can only
 * unpair itself; the owner sees who changed what and can promote it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, type Harness } from './support/harness';
import { lastAnswer, openAndPair, send } from './support/webchat';

describe('WebChat device roles', () => {
  let h: Harness;
  let owner: Page;
  let phone: Page;

  beforeAll(async () => {
    h = await startHarness();
    owner = await h.newPage();
    await openAndPair(owner, h.baseUrl, h.dataDir);
    phone = await h.newPage();
    await openAndPair(phone, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a chat-only browser chats, but its settings are disabled with an explanation', async () => {
    await send(phone, 'hello from the phone');
    expect(await lastAnswer(phone)).toBe('Echo: hello from the phone');

    await phone.getByRole('button', { name: 'Settings' }).click();
    await phone.getByRole('note', { name: 'Chat-only device' }).waitFor();
    expect(await phone.getByRole('note', { name: 'Chat-only device' }).innerText()).toMatch(/paired for chat only/);
    expect(await phone.getByRole('combobox', { name: 'Model', exact: true }).isDisabled()).toBe(true);
    expect(await phone.getByRole('button', { name: 'Save Anthropic API key' }).isDisabled()).toBe(true);
    expect(await phone.getByRole('textbox', { name: 'OpenAI-compatible server URL' }).isDisabled()).toBe(true);
    // Only its own Revoke (unpairing), no role buttons, no audit log.
    await phone.getByRole('list', { name: 'Paired devices' }).waitFor();
    expect(await phone.getByRole('button', { name: /^Revoke / }).count()).toBe(1);
    expect(await phone.getByRole('button', { name: /^Make / }).count()).toBe(0);
    expect(await phone.getByRole('heading', { name: 'Recent changes' }).count()).toBe(0);
  });

  it('the owner saves a server with its key, sees the change in the audit log, and promotes the phone', async () => {
    await owner.getByRole('button', { name: 'Settings' }).click();
    expect(await owner.getByRole('note', { name: 'Chat-only device' }).count()).toBe(0);
    await owner.getByRole('textbox', { name: 'OpenAI-compatible server URL' }).fill('http://127.0.0.1:11434/v1');
    await owner.getByLabel('API key for this server').fill('sk-local-server-key');
    await owner.getByRole('button', { name: 'Save OpenAI-compatible server URL' }).click();
    await owner.getByTestId('status-openaiCompatible.apiKey').filter({ hasText: /^set$/ }).waitFor();
    const audit = owner.getByRole('list', { name: 'Audit log' });
    await audit.getByText(/changed the endpoint openaiCompatible\.url: none → 127\.0\.0\.1:11434/).waitFor();
    expect(await owner.content()).not.toContain('sk-local-server-key');

    // A new server without a key: the stored key goes, and the form said so beforehand.
    await owner.getByRole('textbox', { name: 'OpenAI-compatible server URL' }).fill('http://127.0.0.1:8080/v1');
    await owner.getByRole('note').filter({ hasText: 'clears the key stored' }).waitFor();
    await owner.getByRole('button', { name: 'Save OpenAI-compatible server URL' }).click();
    await owner.getByTestId('status-openaiCompatible.apiKey').filter({ hasText: 'not set' }).waitFor();
    await audit.getByText(/openaiCompatible\.apiKey cleared/).waitFor();

    await owner.getByRole('button', { name: /an owner$/ }).click();
    await audit.getByText(/changed the role of .*: chat → owner/).waitFor();
    await phone.reload();
    await phone.getByRole('button', { name: 'Settings' }).click();
    await phone.getByRole('heading', { name: 'Recent changes' }).waitFor();
    expect(await phone.getByRole('note', { name: 'Chat-only device' }).count()).toBe(0);
  });
});
