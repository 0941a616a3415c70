/**
 * Test support for the skills part (imported only by tests): skill folders
 * written on the fly, throwaway vetting keys, and copies of the bundled
 * skills vetted with such a key.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { rawPublicKey } from '../security';
import { repoRoot } from './runtime/locate';
import { vetSkills } from './vetting/vet';

export const REPO_ROOT = repoRoot();
export const BUNDLED_SKILLS_DIR = join(REPO_ROOT, 'skills');

export interface ThrowawayKey {
  privateKey: KeyObject;
  publicKey: string;
}

export function throwawayKey(): ThrowawayKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

export interface TestSkill {
  name: string;
  /** SKILL.md frontmatter after name/version/description (YAML). */
  yaml: string;
  instructions?: string;
  /** Files of the skill folder besides SKILL.md (the entry is index.mjs unless the YAML names another). */
  files: Record<string, string>;
}

export function writeSkill(dir: string, skill: TestSkill): void {
  const folder = join(dir, skill.name);
  mkdirSync(folder, { recursive: true });
  const md = `---\nname: ${skill.name}\nversion: 1.0.0\ndescription: The ${skill.name} test skill.\n${skill.yaml.trim()}\n---\n${skill.instructions ?? `Use the ${skill.name} tools.`}\n`;
  writeFileSync(join(folder, 'SKILL.md'), md);
  for (const [path, text] of Object.entries(skill.files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  }
}

export interface SkillsFixture {
  dir: string;
  key: ThrowawayKey;
  vet(): void;
  remove(): void;
}

/**
 * A temp skills folder with these skills (and copies of bundled ones),
 * vetted with a throwaway key. `inRepo` puts it under the checkout's .tmp/
 * so skills resolve their libraries from its node_modules, as bundled ones do.
 */
export function skillsFixture(skills: readonly TestSkill[], opts: { bundled?: readonly string[]; inRepo?: boolean } = {}): SkillsFixture {
  const parent = opts.inRepo || (opts.bundled?.length ?? 0) > 0 ? join(REPO_ROOT, '.tmp') : tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'skills-'));
  for (const name of opts.bundled ?? []) cpSync(join(BUNDLED_SKILLS_DIR, name), join(dir, name), { recursive: true });
  for (const skill of skills) writeSkill(dir, skill);
  const key = throwawayKey();
  const fixture: SkillsFixture = {
    dir,
    key,
    vet: () => void vetSkills(dir, key.privateKey),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  fixture.vet();
  return fixture;
}

/** Edits a bundled skill's SKILL.md in a fixture (e.g. to declare a loopback host), before vetting again. */
export function editSkillMd(dir: string, name: string, edit: (text: string) => string): void {
  const path = join(dir, name, 'SKILL.md');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

/** A small skill whose tool echoes its input (optionally risky). */
export function echoSkill(name = 'echo', opts: { risky?: boolean | 'every-call' } = {}): TestSkill {
  const tool = `${name.replace(/-/g, '_')}_say`;
  return {
    name,
    yaml: `tools:
  - name: ${tool}
    description: Says the text back.
    risky: ${JSON.stringify(opts.risky ?? false)}
    input:
      type: object
      properties:
        text: { type: string, maxLength: 200 }
      required: [text]
`,
    files: {
      'index.mjs': `// @ts-check\n/** @type {import('../../server/src/skills/host/api').SkillTools} */\nexport const tools = {\n  async ${tool}({ text }) {\n    return 'said: ' + text;\n  },\n};\n`,
    },
  };
}
