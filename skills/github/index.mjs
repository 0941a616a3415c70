// @ts-check
/**
 * GitHub through @octokit/rest. The API root is a setting (GitHub Enterprise
 * or a test server); the token comes from the vault.
 */
import { Octokit } from '@octokit/rest';

/**
 * @param {import('../../server/src/skills/host/api').ToolContext} ctx
 */
function client(ctx) {
  const token = ctx.secret('token');
  return new Octokit({
    ...(token ? { auth: token } : {}),
    baseUrl: (ctx.setting('apiRoot') ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: 'AutoClaw github skill',
    request: { signal: ctx.signal, retries: 0 },
  });
}

/** @param {string} repo */
function split(repo) {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repo.trim());
  if (!m) throw new Error(`"${repo}" is not a repository name like owner/name`);
  return { owner: m[1], repo: m[2] };
}

/**
 * Octokit's errors carry the HTTP status and GitHub's message.
 * @param {unknown} err
 * @returns {never}
 */
function explain(err) {
  const e = /** @type {{ status?: number; message?: string }} */ (err);
  if (e.status === 401) throw new Error('GitHub refused the token (401 Bad credentials): set a valid token in the GitHub skill');
  if (e.status === 404) throw new Error('GitHub answered 404: no such repository or file, or the token cannot see it');
  if (e.status === 403) throw new Error(`GitHub refused (403): ${e.message ?? 'forbidden'}`);
  throw err;
}

/** @param {{ number: number; title: string; state: string; user?: { login?: string } | null; html_url: string; labels?: Array<string | { name?: string }>; comments?: number }} item */
function line(item) {
  const labels = (item.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name)).filter(Boolean);
  return `#${item.number} ${item.title} (${item.state}, by ${item.user?.login ?? 'unknown'}${labels.length ? `, ${labels.join(', ')}` : ''}) ${item.html_url}`;
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async github_list_issues({ repo, state = 'open', limit = 30 }, ctx) {
    try {
      const { data } = await client(ctx).rest.issues.listForRepo({ ...split(repo), state, per_page: limit });
      const issues = data.filter((i) => !i.pull_request);
      if (issues.length === 0) return `${repo} has no ${state === 'all' ? '' : `${state} `}issues.`;
      return issues.map(line).join('\n');
    } catch (err) {
      return explain(err);
    }
  },

  async github_list_pulls({ repo, state = 'open', limit = 30 }, ctx) {
    try {
      const { data } = await client(ctx).rest.pulls.list({ ...split(repo), state, per_page: limit });
      if (data.length === 0) return `${repo} has no ${state === 'all' ? '' : `${state} `}pull requests.`;
      return data.map((p) => `${line(p)} ${p.head.ref} → ${p.base.ref}${p.draft ? ' (draft)' : ''}`).join('\n');
    } catch (err) {
      return explain(err);
    }
  },

  async github_get_file({ repo, path, ref }, ctx) {
    try {
      const { data } = await client(ctx).rest.repos.getContent({ ...split(repo), path, ...(ref ? { ref } : {}) });
      if (Array.isArray(data)) return `${path} is a folder: ${data.map((e) => e.name).join(', ')}`;
      if (data.type !== 'file' || !('content' in data)) return `${path} is a ${data.type}, not a file`;
      return Buffer.from(data.content, 'base64').toString('utf8');
    } catch (err) {
      return explain(err);
    }
  },

  async github_create_issue({ repo, title, body }, ctx) {
    try {
      const { data } = await client(ctx).rest.issues.create({ ...split(repo), title, ...(body ? { body } : {}) });
      return `Created issue #${data.number}: ${data.html_url}`;
    } catch (err) {
      return explain(err);
    }
  },
};
