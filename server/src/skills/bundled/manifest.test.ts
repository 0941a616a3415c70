/**
 * The bundled skills as committed: every folder vetted, signed by the
 * built-in key, byte for byte. A change to a skill without re-vetting
 * (`AUTOCLAW_SKILLS_KEY=… npm run skills:vet`) fails here, as it would
 * refuse to load.
 */
import { describe, expect, it } from 'vitest';
import { bundledSkillsDir } from '../runtime/locate';
import { trustedSkillKeys } from '../vetting/builtin-key';
import { verifySkills } from '../vetting/verify';

describe('bundled skills', () => {
  it('all verify against the built-in vetting key', () => {
    const verified = verifySkills(bundledSkillsDir(), trustedSkillKeys());
    expect(verified.map((s) => [s.name, s.ok ? 'ok' : s.reason])).toEqual(verified.map((s) => [s.name, 'ok']));
    expect(verified.length).toBeGreaterThanOrEqual(2);
  });
});
