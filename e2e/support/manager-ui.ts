/** Steps a person takes in the manager UI, by roles and labels. */
import type { Locator, Page } from 'playwright-core';

export function instanceState(page: Page): Locator {
  return page.getByRole('status', { name: 'Instance state' });
}

/** Waits until the instance page shows `label` (e.g. "Running"). */
export async function waitInstanceState(page: Page, label: string, timeout = 20_000): Promise<void> {
  await instanceState(page).filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout });
}

export function pairingStatus(page: Page): Locator {
  return page.getByRole('status', { name: 'Pairing' });
}

export async function openView(page: Page, name: 'Chat' | 'Skills' | 'Settings' | 'Instance'): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true }).click();
}

export async function fillCredentials(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
}

/** Settings of the chat: an OpenAI-compatible server, its key, and a model on it (what a user of Ollama & co does). */
export async function useOpenAICompatible(page: Page, url: string, apiKey: string, model: string): Promise<void> {
  await openView(page, 'Settings');
  const urlForm = page.locator('form').filter({ has: page.getByRole('textbox', { name: 'OpenAI-compatible server URL' }) });
  await page.getByRole('textbox', { name: 'OpenAI-compatible server URL' }).fill(url);
  await page.getByRole('button', { name: 'Save OpenAI-compatible server URL' }).click();
  // The field is rebuilt with the stored value once saved.
  await urlForm.getByText('set', { exact: true }).waitFor();
  await page.getByRole('textbox', { name: 'OpenAI-compatible API key' }).fill(apiKey);
  await page.getByRole('button', { name: 'Save OpenAI-compatible API key' }).click();
  await page.getByTestId('status-openaiCompatible.apiKey').filter({ hasText: /^set$/ }).waitFor();
  await page.getByRole('combobox', { name: 'Model' }).fill(model);
  await page.getByRole('button', { name: 'Save model' }).click();
  await page.getByText(model, { exact: true }).first().waitFor();
  await openView(page, 'Chat');
}
