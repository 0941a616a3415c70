// Skill runtime figures: verifying and loading every bundled skill (hashes,
// signatures, SKILL.md), and the overhead of a no-op tool call through the
// catalog and a warm skill process (IPC both ways, input check, grant).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openStore } from '../server/src/store/index';
import { createVault } from '../server/src/security/index';
import { createSkillService } from '../server/src/skills/index';
import { echoSkill, skillsFixture } from '../server/src/skills/test-skills';
import { median, percentile, round, tempDir, writeFigures } from './support';

const figures: Record<string, number> = {};
const dir = tempDir('autoclaw-bench-skills-');
const store = openStore({ path: join(dir.path, 'gateway.db') });
const vault = createVault(randomBytes(32), 'skills');
const base = { store, vault, workspaceDir: join(dir.path, 'workspace'), tmpDir: join(dir.path, 'skills-tmp') };

/* ---------- verify + load every bundled skill ---------- */
const loads: number[] = [];
for (let i = 0; i < 15; i++) {
  const service = createSkillService(base);
  const started = performance.now();
  service.reload();
  loads.push(performance.now() - started);
  const refused = service.list().filter((s) => s.state === 'refused');
  if (refused.length > 0) throw new Error(`bundled skills refused: ${refused.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  await service.stop();
}
figures['skills.load_all_first_ms'] = round(loads[0]!, 1);
figures['skills.load_all_ms'] = round(median(loads), 1);

/* ---------- a no-op call through the runtime (warm process) ---------- */
const fixture = skillsFixture([echoSkill('noop')]);
const service = createSkillService({ ...base, skillsDir: fixture.dir, extraKeys: [fixture.key.publicKey] });
service.start();
service.enable('noop');
const signal = new AbortController().signal;
const call = () => service.catalog.run('noop_say', { text: 'x' }, { sessionId: 'bench', toolCallId: 'tc', signal });
const cold = performance.now();
await call();
figures['skills.first_call_ms'] = round(performance.now() - cold, 1);
for (let i = 0; i < 100; i++) await call();
const times: number[] = [];
for (let i = 0; i < 1_000; i++) {
  const started = performance.now();
  const out = await call();
  times.push(performance.now() - started);
  if (!out.ok) throw new Error(out.content);
}
figures['skills.call_overhead_p50_ms'] = round(median(times), 3);
figures['skills.call_overhead_p99_ms'] = round(percentile(times, 99), 3);
await service.stop();
fixture.remove();
store.close();
dir.remove();
writeFigures(figures);
