/** The bundled coding agent on a small project in the workspace: read, search, patch, run the tests. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

let f: RuntimeFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

function project(): RuntimeFixture {
  f = runtimeFixture([], { bundled: ['coding'], enable: ['coding'] });
  mkdirSync(join(f.workspaceDir, 'calc'), { recursive: true });
  writeFileSync(join(f.workspaceDir, 'calc', 'sum.mjs'), 'export function sum(a, b) {\n  return a - b;\n}\n');
  writeFileSync(
    join(f.workspaceDir, 'calc', 'test.mjs'),
    "import { sum } from './sum.mjs';\nif (sum(2, 3) !== 5) { console.error('FAIL sum(2, 3) = ' + sum(2, 3)); process.exit(1); }\nconsole.log('ok 1 sum');\n",
  );
  return f;
}

describe('coding skill', () => {
  it('reads, searches, patches a bug and runs the tests: failing before, passing after', async () => {
    const f = project();
    expect((await f.call('coding_read', { path: 'calc/sum.mjs' })).content).toBe('1  export function sum(a, b) {\n2    return a - b;\n3  }\n4  ');
    expect((await f.call('coding_search', { pattern: 'a - b' })).content).toBe('calc/sum.mjs:2: return a - b;');
    const before = await f.call('coding_run', { command: 'node calc/test.mjs' });
    expect(before.content).toBe('$ node calc/test.mjs\nExit code 1.\nFAIL sum(2, 3) = -1');
    expect(await f.call('coding_patch', { path: 'calc/sum.mjs', edits: [{ old: 'a - b', new: 'a + b' }] })).toEqual({ ok: true, content: 'Patched calc/sum.mjs (1 edit).' });
    expect(readFileSync(join(f.workspaceDir, 'calc', 'sum.mjs'), 'utf8')).toContain('return a + b;');
    expect((await f.call('coding_run', { command: 'node calc/test.mjs' })).content).toBe('$ node calc/test.mjs\nExit code 0.\nok 1 sum');
  });

  it('patching and every run ask first; a run never gets a standing approval', async () => {
    const f = project();
    const catalog = f.service.catalog;
    const s = f.store.createSession({ name: 'work' }).id;
    expect(catalog.needsApproval('coding_read', s)).toBe(false);
    expect(catalog.needsApproval('coding_patch', s)).toBe(true);
    catalog.grant('coding_run', 'always', s);
    catalog.grant('coding_patch', 'session', s);
    expect(catalog.needsApproval('coding_run', s)).toBe(true);
    expect(catalog.needsApproval('coding_patch', s)).toBe(false);
    expect(f.store.listToolApprovals().map((g) => g.tool)).toEqual(['coding_patch']);
    expect(f.service.list()[0]!.tools.find((t) => t.name === 'coding_run')).toMatchObject({ risky: true, everyCall: true });
  });

  it('a run has a time limit and an output cap, and gets no secrets of the gateway', async () => {
    const f = project();
    process.env['AUTOCLAW_TEST_SECRET'] = 'do-not-leak';
    try {
      expect((await f.call('coding_run', { command: 'sleep 5; echo late', timeoutSeconds: 1 })).content).toBe('$ sleep 5; echo late\nStopped after 1 s (time limit).\n(no output)');
      const big = await f.call('coding_run', { command: "yes 0123456789 | head -c 200000" });
      expect(big.content.endsWith('[output cut at the cap]')).toBe(true);
      expect(big.content.length).toBeLessThan(70_000);
      expect((await f.call('coding_run', { command: 'env' })).content).not.toContain('do-not-leak');
    } finally {
      delete process.env['AUTOCLAW_TEST_SECRET'];
    }
  });

  it('edits are exact: an ambiguous or missing text changes nothing; paths stay in the workspace', async () => {
    const f = project();
    writeFileSync(join(f.workspaceDir, 'twice.txt'), 'x = 1\nx = 1\n');
    expect((await f.call('coding_patch', { path: 'twice.txt', edits: [{ old: 'x = 1', new: 'x = 2' }] })).content).toBe(
      'Edit 1: its "old" text occurs more than once in twice.txt; give more context. Nothing was changed.',
    );
    expect((await f.call('coding_patch', { path: 'twice.txt', edits: [{ old: 'y', new: 'z' }] })).content).toBe('Edit 1: its "old" text is not in twice.txt; nothing was changed.');
    expect(readFileSync(join(f.workspaceDir, 'twice.txt'), 'utf8')).toBe('x = 1\nx = 1\n');
    expect((await f.call('coding_read', { path: '../gateway.db' })).content).toBe('coding_read failed: Paths must not contain ".."');
  });
});
