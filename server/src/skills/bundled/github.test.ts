/** The bundled GitHub skill: the real @octokit/rest against a local server speaking GitHub's REST API. */
import { afterEach, describe, expect, it } from 'vitest';
import { startGitHubApiServer, type GitHubApiServer } from '../../testing';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

const TOKEN = 'ghp_testtoken000000000000000000000001';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ f: RuntimeFixture; api: GitHubApiServer }> {
  const api = await startGitHubApiServer({
    token: TOKEN,
    repos: {
      'anna/garden': {
        issues: [
          { number: 1, title: 'Water the tomatoes', state: 'open', user: 'anna', labels: ['chore'] },
          { number: 2, title: 'Fence is broken', state: 'closed', user: 'ben' },
          { number: 3, title: 'Add drip irrigation', state: 'open', user: 'ben', pull: { head: 'drip', base: 'main' } },
          { number: 4, title: 'Compost bin', state: 'open', user: 'anna' },
        ],
        files: { 'README.md': '# Garden\n\nTomatoes, beans and a lot of basil.\n' },
      },
    },
  });
  cleanups.push(() => api.close());
  const f = runtimeFixture([], { bundled: ['github'], enable: ['github'] });
  cleanups.push(() => f.close());
  f.service.setSetting('github', 'apiRoot', api.url);
  f.service.setSecret('github', 'token', TOKEN);
  return { f, api };
}

describe('github skill', () => {
  it('lists open issues (not pull requests) and pull requests, and reads a file', async () => {
    const { f, api } = await setup();
    expect(await f.call('github_list_issues', { repo: 'anna/garden' })).toEqual({
      ok: true,
      content: [
        '#4 Compost bin (open, by anna) https://github.com/anna/garden/issues/4',
        '#1 Water the tomatoes (open, by anna, chore) https://github.com/anna/garden/issues/1',
      ].join('\n'),
    });
    expect((await f.call('github_list_pulls', { repo: 'anna/garden' })).content).toBe(
      '#3 Add drip irrigation (open, by ben) https://github.com/anna/garden/pull/3 drip → main',
    );
    expect((await f.call('github_get_file', { repo: 'anna/garden', path: 'README.md' })).content).toBe('# Garden\n\nTomatoes, beans and a lot of basil.\n');
    // Octokit's own request: token auth, its user agent, GitHub's media type.
    expect(api.requests[0]).toMatchObject({ method: 'GET', path: '/repos/anna/garden/issues' });
    expect(api.requests[0]!.headers.authorization).toBe(`token ${TOKEN}`);
    expect(api.requests[0]!.headers['user-agent']).toMatch(/^AutoClaw github skill octokit-rest\.js/);
    expect(api.requests[0]!.headers.accept).toBe('application/vnd.github.v3+json');
  });

  it('creates an issue only as a risky tool (asks first), and GitHub\'s errors read clearly', async () => {
    const { f, api } = await setup();
    expect(f.service.catalog.needsApproval('github_create_issue', 's')).toBe(true);
    expect(f.service.catalog.needsApproval('github_list_issues', 's')).toBe(false);
    expect(await f.call('github_create_issue', { repo: 'anna/garden', title: 'Plant garlic', body: 'In October.' })).toEqual({
      ok: true,
      content: 'Created issue #5: https://github.com/anna/garden/issues/5',
    });
    expect(api.repos.get('anna/garden')!.issues.at(-1)).toMatchObject({ title: 'Plant garlic', body: 'In October.' });
    expect((await f.call('github_list_issues', { repo: 'anna/nothing' })).content).toBe(
      'github_list_issues failed: GitHub answered 404: no such repository or file, or the token cannot see it',
    );
    f.service.setSecret('github', 'token', 'ghp_wrong');
    expect((await f.call('github_list_issues', { repo: 'anna/garden' })).content).toMatch(/401 Bad credentials/);
  });

  it('a new API root forgets the token stored for the old one', async () => {
    const { f } = await setup();
    expect(f.service.list()[0]!.secrets).toEqual([{ name: 'token', label: 'GitHub personal access token', set: true }]);
    f.service.setSetting('github', 'apiRoot', 'https://github.example.com/api/v3');
    expect(f.service.list()[0]!.secrets[0]!.set).toBe(false);
  });
});
