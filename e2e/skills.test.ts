/**
 * Skills end to end: the real gateway process with vetted skills (copies of
 * the bundled ones, signed with a throwaway key), the real libraries against
 * local servers speaking Open-Meteo's and GitHub's APIs, WebChat in Chromium.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startGitHubApiServer, startOpenMeteoServer, type ApiServer, type GitHubApiServer } from '../server/src/testing';
import { skillsFixture, type SkillsFixture } from '../server/src/skills/test-skills';
import { startHarness, type Harness } from './support/harness';
import { openView } from './support/manager-ui';
import { lastAnswer, openAndPair, send } from './support/webchat';

const TOKEN = 'ghp_e2e0000000000000000000000000000000';

describe('Skills in WebChat', () => {
  let h: Harness;
  let page: Page;
  let skills: SkillsFixture;
  let meteo: ApiServer;
  let github: GitHubApiServer;

  beforeAll(async () => {
    meteo = await startOpenMeteoServer();
    github = await startGitHubApiServer({ token: TOKEN, repos: { 'anna/garden': { issues: [{ number: 1, title: 'Water the tomatoes', state: 'open', user: 'anna' }], files: {} } } });
    skills = skillsFixture([], { bundled: ['weather', 'github', 'notes'] });
    // A skill changed after vetting: it must be refused, and say why.
    appendFileSync(join(skills.dir, 'notes', 'index.mjs'), '\n// changed after vetting\n');
    h = await startHarness({ gatewayArgs: ['--skills', skills.dir, `--skills-pubkey=${skills.key.publicKey}`] });
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
    skills?.remove();
    await meteo?.close();
    await github?.close();
  });

  const card = (name: string) => page.locator(`section[data-skill="${name}"]`);

  async function setField(name: string, label: string, value: string): Promise<void> {
    const field = card(name).locator('form.setting-field').filter({ has: page.getByLabel(label, { exact: true }) });
    await field.getByLabel(label, { exact: true }).fill(value);
    await field.getByRole('button', { name: `Save ${label}` }).click();
  }

  it('lists each skill with what it may touch; a tampered one is refused with its reason', async () => {
    await openView(page, 'Skills');
    await page.getByRole('heading', { name: 'Skills', level: 1 }).waitFor();
    await expect.poll(() => page.locator('section.skill-card').count()).toBe(3);
    await card('notes').getByText('Refused, not loaded: index.mjs changed after vetting (its SHA-256 does not match the manifest)').waitFor();
    expect(await card('notes').getByRole('switch').count()).toBe(0);
    expect(await card('weather').locator('dl.skill-permissions').innerText()).toContain('api.open-meteo.com (Forecast API)');
    expect(await card('github').locator('dl.skill-permissions').innerText()).toMatch(/Asks first\s+github_create_issue/);
  });

  it('enable Weather, point it at its API, ask: the tool call shows and the answer uses it', async () => {
    await card('weather').getByRole('switch', { name: 'Enable weather' }).click();
    await card('weather').locator('.skill-state.state-enabled').waitFor();
    await setField('weather', 'Forecast API', meteo.url);
    await setField('weather', 'Geocoding API', meteo.url);
    await expect.poll(() => card('weather').locator('dl.skill-permissions').innerText()).toContain(`127.0.0.1:${meteo.port} (Forecast API)`);

    await openView(page, 'Chat');
    h.wire.enqueue({ kind: 'tool_use', calls: [{ name: 'weather_forecast', input: { place: 'Lisbon', days: 2 } }] });
    await send(page, "what's the weather in Lisbon tomorrow?");
    const call = page.getByTestId('tool-call').filter({ hasText: 'weather_forecast' });
    await call.locator('.tool-status.status-done').waitFor();
    await expect.poll(() => lastAnswer(page), { timeout: 15_000 }).toContain('Weather for Lisbon, Lisbon, Portugal');
    expect(await lastAnswer(page)).toContain('2026-05-05: light rain, 16.4–24.4 °C, rain 6.4 mm (85%)');
    expect(meteo.requests.map((r) => r.path)).toEqual(['/v1/search', '/v1/forecast']);
    // The model saw the skill's instructions while it was enabled.
    const system = (h.wire.requests.at(-2)!.body as { system?: unknown }).system;
    expect(JSON.stringify(system)).toContain('## Skill: weather');
  });

  it('a risky GitHub action asks first and runs once after approval; the next one asks again', async () => {
    await openView(page, 'Skills');
    await card('github').getByRole('switch', { name: 'Enable github' }).click();
    await card('github').locator('.skill-state.state-enabled').waitFor();
    await setField('github', 'GitHub API', github.url);
    await setField('github', 'GitHub personal access token', TOKEN);
    await card('github').getByText('set (stored encrypted)').waitFor();
    expect(await page.content()).not.toContain(TOKEN);

    await openView(page, 'Chat');
    const create = { kind: 'tool_use' as const, calls: [{ name: 'github_create_issue', input: { repo: 'anna/garden', title: 'Plant garlic' } }] };
    h.wire.enqueue(create);
    await send(page, 'open an issue in anna/garden to plant garlic');
    const approval = page.getByRole('group', { name: 'Approve github_create_issue?' });
    await approval.waitFor();
    expect(github.repos.get('anna/garden')!.issues).toHaveLength(1);
    for (const name of ['Approve', 'Allow in this conversation', 'Always allow this tool', 'Deny']) {
      await approval.getByRole('button', { name, exact: true }).waitFor();
    }
    await approval.getByRole('button', { name: 'Approve', exact: true }).click();
    await approval.waitFor({ state: 'detached' });
    await expect.poll(() => lastAnswer(page), { timeout: 15_000 }).toBe('Tool github_create_issue returned: Created issue #2: https://github.com/anna/garden/issues/2');
    expect(github.repos.get('anna/garden')!.issues.map((i) => i.title)).toEqual(['Water the tomatoes', 'Plant garlic']);

    // "Once" covered that call only: the next one asks again, and a no runs nothing.
    h.wire.enqueue(create);
    await send(page, 'and another one');
    await approval.waitFor();
    await approval.getByRole('button', { name: 'Deny', exact: true }).click();
    await approval.waitFor({ state: 'detached' });
    await expect.poll(() => lastAnswer(page), { timeout: 15_000 }).toMatch(/The user denied this tool call/);
    expect(github.repos.get('anna/garden')!.issues).toHaveLength(2);
  });

  it('"Always allow this tool" shows on the Skills page and can be revoked there', async () => {
    h.wire.enqueue({ kind: 'tool_use', calls: [{ name: 'github_create_issue', input: { repo: 'anna/garden', title: 'Mulch the beds' } }] });
    await send(page, 'one more issue please');
    const approval = page.getByRole('group', { name: 'Approve github_create_issue?' });
    await approval.getByRole('button', { name: 'Always allow this tool', exact: true }).click();
    await approval.waitFor({ state: 'detached' });
    await expect.poll(() => lastAnswer(page), { timeout: 15_000 }).toBe('Tool github_create_issue returned: Created issue #3: https://github.com/anna/garden/issues/3');
    expect(github.repos.get('anna/garden')!.issues).toHaveLength(3);

    await openView(page, 'Skills');
    const list = page.getByRole('list', { name: 'Standing approvals' });
    await list.getByText('github_create_issue').waitFor();
    await list.getByRole('button', { name: 'Revoke approval of github_create_issue' }).click();
    await page.getByText(/^None\. When you answer/).waitFor();
  });

  it('works in a 390-pixel window and in dark mode', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByLabel('Theme').selectOption('dark');
    await openView(page, 'Skills');
    await card('weather').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const bg = await card('weather').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(bg).toBe('rgb(27, 30, 34)');
  });
});
