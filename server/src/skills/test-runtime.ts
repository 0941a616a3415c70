/**
 * Test support: a skill service over a real store and vault on a temp data
 * directory, with a skills folder vetted by a throwaway key (imported only
 * by tests).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../store';
import { createVault } from '../security';
import { createSkillService, type SkillService, type SkillServiceDeps } from './skill-service';
import { skillsFixture, type SkillsFixture, type TestSkill } from './test-skills';
import type { ToolOutcome } from './types';

export interface RuntimeFixture {
  dataDir: string;
  workspaceDir: string;
  store: Store;
  skills: SkillsFixture;
  service: SkillService;
  call(tool: string, input: unknown, opts?: { signal?: AbortSignal; sessionId?: string }): Promise<ToolOutcome>;
  close(): Promise<void>;
}

export function runtimeFixture(
  skills: readonly TestSkill[],
  opts: { bundled?: readonly string[]; enable?: readonly string[]; deps?: Partial<SkillServiceDeps>; inRepo?: boolean } = {},
): RuntimeFixture {
  const dataDir = mkdtempSync(join(tmpdir(), 'autoclaw-runtime-'));
  const workspaceDir = join(dataDir, 'workspace');
  mkdirSync(workspaceDir, { recursive: true });
  const store = openStore({ path: join(dataDir, 'gateway.db') });
  const fixture = skillsFixture(skills, { ...(opts.bundled ? { bundled: opts.bundled } : {}), ...(opts.inRepo ? { inRepo: true } : {}) });
  const service = createSkillService({
    store,
    vault: createVault(randomBytes(32), 'skills'),
    workspaceDir,
    tmpDir: join(dataDir, 'skills-tmp'),
    skillsDir: fixture.dir,
    extraKeys: [fixture.key.publicKey],
    idleMs: 60_000,
    ...opts.deps,
  });
  service.start();
  for (const name of opts.enable ?? []) service.enable(name);
  return {
    dataDir,
    workspaceDir,
    store,
    skills: fixture,
    service,
    call: (tool, input, o = {}) =>
      service.catalog.run(tool, input, { sessionId: o.sessionId ?? 'session-1', toolCallId: `tc-${Math.random()}`, signal: o.signal ?? new AbortController().signal }),
    async close() {
      await service.stop();
      store.close();
      fixture.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
