// The import-cycle check of `npm run lint`: it finds a cycle between two
// parts (also one made only of type imports), ignores what stays inside one
// part and what tests reach across, exits non-zero naming the imports — and
// the repository has none (issue 8, item 6: manager/instances ↔ manager/supervisor).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findCycles } from './check-cycles.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let dir = '';

function tree(files) {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-cycles-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the import-cycle check', () => {
  it('finds a cycle between two parts, also through type imports only, and names the imports', () => {
    const d = tree({
      'manager/instances/index.ts': "export { createPart } from './part';\n",
      'manager/instances/part.ts': "import { createSupervisor } from '../supervisor';\nexport const createPart = () => createSupervisor();\n",
      'manager/supervisor/index.ts': "export { createSupervisor } from './supervisor';\n",
      'manager/supervisor/supervisor.ts': "import type { Service } from '../instances';\nexport const createSupervisor = (s?: Service) => s;\n",
    });
    const [problem, ...more] = findCycles([d]);
    expect(more).toEqual([]);
    expect(problem.cycle).toEqual(['instances/', 'supervisor/', 'instances/']);
    const run = spawnSync(process.execPath, [join(root, 'scripts/check-cycles.mjs'), d], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/import cycle in .*manager: instances\/ → supervisor\/ → instances\//);
    expect(run.stderr).toMatch(/supervisor\/supervisor\.ts imports .*instances\/index\.ts/);
  });

  it('leaves alone files of one part importing each other, and tests reaching across', () => {
    const d = tree({
      'a/x.ts': "import { y } from './y';\nexport const x = y;\n",
      'a/y.ts': "import type { x } from './x';\nexport const y = 1 as unknown as typeof x;\n",
      'a/x.test.ts': "import { b } from '../b';\n",
      'b/index.ts': "import { x } from '../a/x';\nexport const b = x;\n",
    });
    expect(findCycles([d])).toEqual([]);
  });

  it('the repository has no import cycle between parts', () => {
    const run = spawnSync(process.execPath, [join(root, 'scripts/check-cycles.mjs')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run).toMatchObject({ status: 0, stdout: 'no import cycles between parts\n' });
  });
});
