/**
 * The parts of GitHub's REST API the github skill uses, as documented:
 * `GET /repos/{owner}/{repo}/issues` (pull requests included, marked with
 * `pull_request`), `GET …/pulls`, `GET …/contents/{path}` (base64 content),
 * `POST …/issues` (201; 422 "Validation Failed" without a title), token
 * auth (`Authorization: token T` or `Bearer T`; 401 "Bad credentials"), and
 * GitHub's error body `{message, documentation_url, status}`.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, startApiServer, type ApiServer } from './api-server-base';

export interface GitHubIssue {
  number: number;
  title: string;
  state: 'open' | 'closed';
  user: string;
  labels?: string[];
  body?: string;
  /** Set for pull requests (the issues API lists them too). */
  pull?: { head: string; base: string; draft?: boolean };
}

export interface GitHubRepo {
  issues: GitHubIssue[];
  files: Record<string, string>;
}

export interface GitHubApiServer extends ApiServer {
  readonly repos: Map<string, GitHubRepo>;
}

const DOCS = 'https://docs.github.com/rest';

function fail(res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { message, documentation_url: DOCS, status: String(status), ...extra });
}

export async function startGitHubApiServer(opts: { token: string; repos: Record<string, GitHubRepo> }): Promise<GitHubApiServer> {
  const repos = new Map(Object.entries(opts.repos));
  let server: ApiServer | null = null;
  const html = (repo: string, kind: string, n: number) => `https://github.com/${repo}/${kind}/${n}`;
  const issueJson = (repo: string, i: GitHubIssue) => ({
    id: 1000 + i.number,
    number: i.number,
    title: i.title,
    state: i.state,
    html_url: html(repo, i.pull ? 'pull' : 'issues', i.number),
    url: `${server?.url}/repos/${repo}/issues/${i.number}`,
    user: { login: i.user, id: 1 },
    labels: (i.labels ?? []).map((name, n) => ({ id: n, name, color: 'ededed' })),
    comments: 0,
    body: i.body ?? null,
    created_at: '2026-05-01T10:00:00Z',
    ...(i.pull ? { pull_request: { url: `${server?.url}/repos/${repo}/pulls/${i.number}` } } : {}),
  });
  server = await startApiServer((req, res) => {
    const auth = req.headers.authorization;
    if (auth !== `token ${opts.token}` && auth !== `Bearer ${opts.token}`) return fail(res, 401, 'Bad credentials');
    if (!String(req.headers['user-agent'] ?? '')) return fail(res, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
    const m = /^\/repos\/([^/]+)\/([^/]+)\/(issues|pulls|contents)(?:\/(.*))?$/.exec(req.path);
    const name = m ? `${m[1]}/${m[2]}` : '';
    const repo = repos.get(name);
    if (!m || !repo) return fail(res, 404, 'Not Found');
    const state = req.query.get('state') ?? 'open';
    const perPage = Math.min(Number(req.query.get('per_page') ?? '30'), 100);
    const byState = (i: GitHubIssue) => state === 'all' || i.state === state;
    const newest = [...repo.issues].sort((a, b) => b.number - a.number);
    if (m[3] === 'issues' && req.method === 'GET' && !m[4]) {
      return sendJson(res, 200, newest.filter(byState).slice(0, perPage).map((i) => issueJson(name, i)));
    }
    if (m[3] === 'issues' && req.method === 'POST' && !m[4]) {
      const body = req.json as { title?: unknown; body?: unknown } | undefined;
      if (typeof body?.title !== 'string' || body.title === '') {
        return fail(res, 422, 'Validation Failed', { errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }] });
      }
      const issue: GitHubIssue = { number: Math.max(0, ...repo.issues.map((i) => i.number)) + 1, title: body.title, state: 'open', user: 'autoclaw-user' };
      if (typeof body.body === 'string') issue.body = body.body;
      repo.issues.push(issue);
      return sendJson(res, 201, issueJson(name, issue), { location: `${server?.url}/repos/${name}/issues/${issue.number}` });
    }
    if (m[3] === 'pulls' && req.method === 'GET' && !m[4]) {
      return sendJson(
        res,
        200,
        newest
          .filter((i) => i.pull && byState(i))
          .slice(0, perPage)
          .map((i) => ({
            ...issueJson(name, i),
            head: { ref: i.pull!.head, label: `${m[1]}:${i.pull!.head}` },
            base: { ref: i.pull!.base, label: `${m[1]}:${i.pull!.base}` },
            draft: i.pull!.draft ?? false,
          })),
      );
    }
    if (m[3] === 'contents' && req.method === 'GET') {
      const path = decodeURIComponent(m[4] ?? '');
      const text = repo.files[path];
      if (text === undefined) return fail(res, 404, 'Not Found');
      const content = Buffer.from(text).toString('base64').replace(/(.{60})/g, '$1\n');
      return sendJson(res, 200, { type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: path.split('/').pop(), path, content, sha: 'a'.repeat(40) });
    }
    return fail(res, 404, 'Not Found');
  });
  return Object.assign(server, { repos });
}
