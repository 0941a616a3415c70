/**
 * Skill processes under enforced permissions: real child processes, real
 * loopback servers, the tool catalog as the agent uses it.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { echoSkill, type TestSkill } from './test-skills';
import { runtimeFixture, type RuntimeFixture } from './test-runtime';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function open(skills: TestSkill[], enable: string[], opts: Parameters<typeof runtimeFixture>[1] = {}): RuntimeFixture {
  const f = runtimeFixture(skills, { enable, ...opts });
  cleanups.push(() => f.close());
  return f;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port, url: `http://127.0.0.1:${port}` };
}

/** A skill whose one tool tries something and reports what happened. */
function probeSkill(yaml: string): TestSkill {
  return {
    name: 'probe',
    yaml: `tools:
  - name: probe_try
    description: Tries something.
    timeoutMs: 5000
    input:
      type: object
      properties:
        what: { type: string }
        arg: { type: string }
${yaml}`,
    files: {
      'index.mjs': `// @ts-check
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import dns from 'node:dns';
import dgram from 'node:dgram';
import * as cp from 'node:child_process';
import { request as esmRequest } from 'node:http';

const get = (url, request = http.request) => new Promise((resolve, reject) => {
  const req = request(url, (res) => { let body = ''; res.setEncoding('utf8'); res.on('data', (c) => (body += c)); res.on('end', () => resolve(res.statusCode + ' ' + body)); });
  req.on('error', reject);
  req.end();
});

const attempts = {
  fetch: async (url) => { const r = await fetch(url); return r.status + ' ' + (await r.text()); },
  http: (url) => get(url),
  esmHttp: (url) => get(url, esmRequest),
  net: (url) => new Promise((resolve, reject) => { const u = new URL(url); const s = net.connect(Number(u.port), u.hostname); s.on('connect', () => resolve('connected')); s.on('error', reject); }),
  dns: async () => (await dns.promises.lookup('localhost')).address,
  dnsCallback: () => new Promise((resolve, reject) => dns.lookup('localhost', (err, address) => (err ? reject(err) : resolve(address)))),
  udp: () => { dgram.createSocket('udp4').send('x', 9, '127.0.0.1'); return 'sent'; },
  listen: () => new Promise((resolve, reject) => { const s = net.createServer(); s.on('error', reject); s.listen(0, () => resolve('listening')); }),
  spawn: () => { cp.spawnSync('true'); return 'spawned'; },
  kill: () => { process.kill(process.ppid, 0); return 'signalled the gateway'; },
  readFile: (path) => fs.readFileSync(path, 'utf8').slice(0, 20),
  env: () => JSON.stringify(process.env),
  secret: (name, ctx) => String(ctx.secret(name)),
  filesRead: (path, ctx) => ctx.files.read(path),
  filesWrite: (path, ctx) => ctx.files.write(path, 'written').then(() => 'wrote ' + path),
  crash: () => { setTimeout(() => process.exit(3), 0); return new Promise(() => {}); },
  throwLater: () => { setTimeout(() => { throw new Error('boom'); }, 0); return new Promise(() => {}); },
  loop: () => { for (;;) {} },
  pid: () => String(process.pid),
};

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async probe_try({ what, arg }, ctx) {
    try {
      return 'ok: ' + (await attempts[what](arg, ctx));
    } catch (e) {
      const err = /** @type {any} */ (e);
      return 'refused: ' + (err?.cause?.message ?? err?.message ?? String(err));
    }
  },
};
`,
    },
  };
}

const probe = (f: RuntimeFixture, what: string, arg = '') => f.call('probe_try', { what, arg });

describe('skill runtime', () => {
  it('runs a skill tool in its own process, started on first use', async () => {
    const f = open([echoSkill('echo')], ['echo']);
    expect(f.service.processes()).toEqual([]);
    expect(await f.call('echo_say', { text: 'hello' })).toEqual({ ok: true, content: 'said: hello' });
    const [proc] = f.service.processes();
    expect(proc?.skill).toBe('echo');
    expect(proc?.pid).not.toBe(process.pid);
    expect(f.service.catalog.instructions()).toContain('## Skill: echo');
    // Input is checked against the declared schema before the skill sees it.
    expect(await f.call('echo_say', { text: 42 })).toEqual({ ok: false, content: 'Invalid input for echo_say: input.text: expected string, got integer' });
  });

  it('a disabled skill has no tools and its process stops', async () => {
    const f = open([echoSkill('echo')], ['echo']);
    await f.call('echo_say', { text: 'x' });
    f.service.disable('echo');
    expect(f.service.catalog.names()).not.toContain('echo_say');
    await expect.poll(() => f.service.processes().length).toBe(0);
  });

  it('a tampered skill is refused alone, with its reason; the others load', async () => {
    const f = open([echoSkill('echo'), echoSkill('other')], []);
    appendFileSync(join(f.skills.dir, 'other', 'index.mjs'), '\n// injected\n');
    f.service.reload();
    expect(f.service.list().map((s) => [s.name, s.state, s.reason])).toEqual([
      ['echo', 'disabled', null],
      ['other', 'refused', 'index.mjs changed after vetting (its SHA-256 does not match the manifest)'],
    ]);
    expect(() => f.service.enable('other')).toThrow(/was refused: index.mjs changed after vetting/);
    expect(f.service.enable('echo').state).toBe('enabled');
    expect(await f.call('echo_say', { text: 'still fine' })).toMatchObject({ ok: true });
  });

  it('a crash answers with a clear tool error and the next call works', async () => {
    const f = open([probeSkill('')], ['probe']);
    const firstPid = (await probe(f, 'pid')).content;
    expect(await probe(f, 'crash')).toEqual({ ok: false, content: 'The probe skill stopped unexpectedly (exit code 3); it starts again on the next call.' });
    const next = await probe(f, 'pid');
    expect(next.ok).toBe(true);
    expect(next.content).not.toBe(firstPid);
    expect((await probe(f, 'throwLater')).content).toMatch(/^The probe skill stopped unexpectedly/);
    expect((await probe(f, 'pid')).ok).toBe(true);
  });

  it('a skill that loops forever: the call ends at its time limit, the process is killed, the next call works', async () => {
    const f = open([loopSkill()], ['probe']);
    const outcome = await probe(f, 'loop');
    expect(outcome).toEqual({ ok: false, content: 'probe_try did not finish within 3 s and was stopped.' });
    expect((await probe(f, 'pid')).content).toMatch(/^ok: \d+$/);
  });

  it('a stopped turn ends the call at once, even when the skill ignores the abort', async () => {
    const f = open([probeSkill('')], ['probe']);
    await probe(f, 'pid');
    const turn = new AbortController();
    const pending = f.call('probe_try', { what: 'loop', arg: '' }, { signal: turn.signal });
    setTimeout(() => turn.abort('cancel'), 50);
    expect(await pending).toEqual({ ok: false, content: 'Stopped before it finished: the turn was stopped.' });
    expect((await probe(f, 'pid')).ok).toBe(true);
  });
});

function loopSkill(): TestSkill {
  const skill = probeSkill('');
  skill.yaml = skill.yaml.replace('timeoutMs: 5000', 'timeoutMs: 3000');
  return skill;
}

describe('skill permissions', () => {
  it('gets only the secrets it declared, only while enabled; no environment of the gateway', async () => {
    const skill = probeSkill(`permissions:
  secrets:
    - name: token
      label: API token
`);
    const f = open([skill], ['probe']);
    f.service.setSecret('probe', 'token', 'tok-123');
    expect(() => f.service.setSecret('probe', 'other', 'x')).toThrow(/has no secret other/);
    // Another skill's secret, stored directly, is never handed over.
    expect(await probe(f, 'secret', 'token')).toEqual({ ok: true, content: 'ok: tok-123' });
    expect(await probe(f, 'secret', 'other')).toEqual({ ok: true, content: 'ok: undefined' });
    const env = JSON.parse((await probe(f, 'env')).content.slice(4)) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR']);
    expect(f.service.list()[0]!.secrets).toEqual([{ name: 'token', label: 'API token', set: true }]);
    f.service.disable('probe');
    expect((await probe(f, 'secret', 'token')).content).toMatch(/^Unknown tool "probe_try"/);
  });

  it('files: only its scope, no way out by path, symlink or FIFO, and raw fs is confined too', async () => {
    const skill = probeSkill(`permissions:
  files:
    scope: notes
    access: read-write
`);
    const f = open([skill], ['probe']);
    const notes = join(f.workspaceDir, 'notes');
    mkdirSync(notes, { recursive: true });
    writeFileSync(join(notes, 'a.md'), 'note a');
    writeFileSync(join(f.workspaceDir, 'private.txt'), 'not for skills');
    symlinkSync(join(f.workspaceDir, 'private.txt'), join(notes, 'link.md'));
    symlinkSync(f.workspaceDir, join(notes, 'up'));
    execFileSync('mkfifo', [join(notes, 'pipe')]);

    expect(await probe(f, 'filesRead', 'a.md')).toEqual({ ok: true, content: 'ok: note a' });
    expect(await probe(f, 'filesWrite', 'sub/b.md')).toEqual({ ok: true, content: 'ok: wrote sub/b.md' });
    expect(await probe(f, 'filesRead', '../private.txt')).toEqual({ ok: true, content: 'refused: Paths must not contain ".."' });
    expect(await probe(f, 'filesRead', 'link.md')).toEqual({ ok: true, content: 'refused: Path leads outside the workspace through a symlink' });
    expect(await probe(f, 'filesRead', 'up/private.txt')).toEqual({ ok: true, content: 'refused: Path leads outside the workspace through a symlink' });
    expect(await probe(f, 'filesRead', 'pipe')).toEqual({ ok: true, content: 'refused: pipe is not a regular file' });
    // Node's permission model: the data directory, the workspace outside the scope, the system.
    for (const path of [join(f.dataDir, 'gateway.db'), join(f.workspaceDir, 'private.txt'), '/etc/passwd']) {
      expect((await probe(f, 'readFile', path)).content).toMatch(/^refused: Access to this API has been restricted/);
    }
  });

  it('a skill without a files permission touches no file', async () => {
    const f = open([probeSkill('')], ['probe']);
    expect((await probe(f, 'filesRead', 'a.md')).content).toMatch(/^refused: touching workspace files \(no files permission\) is refused/);
  });

  it('processes and signals: no program starts, no other process is signalled', async () => {
    const f = open([probeSkill('')], ['probe']);
    expect((await probe(f, 'spawn')).content).toMatch(/^refused: (Access to this API has been restricted|starting programs is refused)/);
    expect((await probe(f, 'kill')).content).toMatch(/^refused: signalling other processes is refused/);
  });

  it('network: only declared hosts, every time — other ports, names, IP forms, redirects, sockets, DNS and UDP are refused', async () => {
    const allowed = await listen((req, res) => {
      if (req.url === '/hop') {
        res.writeHead(302, { location: `${other.url}/secret` });
        res.end();
        return;
      }
      res.end('allowed');
    });
    const other = await listen((_req, res) => res.end('LEAKED'));
    const f = open(
      [
        probeSkill(`permissions:
  network:
    - 127.0.0.1:${allowed.port}
`),
      ],
      ['probe'],
    );
    expect(await probe(f, 'fetch', `${allowed.url}/`)).toEqual({ ok: true, content: 'ok: 200 allowed' });
    expect(await probe(f, 'http', `${allowed.url}/`)).toEqual({ ok: true, content: 'ok: 200 allowed' });
    expect(await probe(f, 'esmHttp', `${allowed.url}/`)).toEqual({ ok: true, content: 'ok: 200 allowed' });

    const attempts: Array<[string, string]> = [
      ['fetch', `${other.url}/secret`],
      ['fetch', `${allowed.url}/hop`],
      ['http', `${other.url}/secret`],
      ['esmHttp', `${other.url}/secret`],
      ['fetch', `http://localhost:${allowed.port}/`],
      ['fetch', `http://[::1]:${allowed.port}/`],
      ['fetch', `http://[::ffff:127.0.0.1]:${other.port}/`],
      ['fetch', `http://2130706433:${other.port}/`],
      ['fetch', `http://0x7f.1:${other.port}/`],
      ['fetch', `file:///etc/passwd`],
      ['net', allowed.url],
      ['dns', ''],
      ['dnsCallback', ''],
      ['udp', ''],
      ['listen', ''],
    ];
    const results: string[] = [];
    for (let round = 0; round < 10; round++) {
      for (const [what, arg] of attempts) results.push(`${what} ${arg} → ${(await probe(f, what, arg)).content}`);
    }
    const leaked = results.filter((r) => !r.includes('→ refused: '));
    expect(leaked).toEqual([]);
    expect(results.filter((r) => r.includes('LEAKED'))).toEqual([]);
    expect(results.find((r) => r.startsWith('fetch http://127.0.0.1') && r.includes('/hop'))).toMatch(/redirect to 127\.0\.0\.1:\d+ refused/);
  });
});
