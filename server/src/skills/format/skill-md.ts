/**
 * SKILL.md: YAML frontmatter that says what a skill is and may do (tools
 * with JSON-schema inputs; network hosts, vault secrets, a workspace folder,
 * programs, command runs; settings; an OAuth account), and a Markdown body:
 * the instructions the model gets while the skill is enabled.
 */
import { load, JSON_SCHEMA } from 'js-yaml';
import { z } from 'zod';
import { SkillName, ToolName } from '@autoclaw/shared';
import { workspaceSegments } from '../core/workspace-path';
import { schemaProblems } from './json-schema-lite';

export const SKILL_FILE = 'SKILL.md';
const MAX_INSTRUCTIONS = 8_000;

/**
 * A host a skill may reach: `name`, `name:port`, `*.domain` (any
 * subdomain), `*` (any public host), or `setting:NAME` (the host of the URL
 * in that setting, which the owner chooses, e.g. a Hue bridge on the LAN).
 */
const HostEntry = z
  .string()
  .max(253)
  .regex(/^(\*|setting:[a-zA-Z][a-zA-Z0-9]*|(\*\.)?[a-z0-9.-]+(:\d{1,5})?|\[[0-9a-f:.]+\](:\d{1,5})?)$/, 'must be a host, host:port, *.domain, * or setting:NAME');

const Name = z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'names are letters and digits').max(40);

const ToolDef = z
  .object({
    name: ToolName,
    description: z.string().min(1).max(1_000),
    /** true: asks first; "every-call": asks every time (no standing approval). */
    risky: z.union([z.boolean(), z.literal('every-call')]).default(false),
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    input: z.record(z.string(), z.unknown()),
  })
  .strict();

const Permissions = z
  .object({
    network: z.array(HostEntry).max(32).default([]),
    secrets: z.array(z.object({ name: Name, label: z.string().min(1).max(80) }).strict()).max(16).default([]),
    files: z
      .object({
        /** A folder of the workspace ("notes"), or "." for all of it. */
        scope: z.string().min(1).max(200),
        access: z.enum(['read', 'read-write']),
      })
      .strict()
      .nullable()
      .default(null),
    processes: z.array(z.enum(['chromium'])).max(4).default([]),
    exec: z.boolean().default(false),
    index: z.boolean().default(false),
  })
  .strict();

const Setting = z
  .object({
    name: Name,
    label: z.string().min(1).max(80),
    default: z.string().max(2_048).nullable().default(null),
    /** `url`: an http(s) URL; `host`: a host or IP (with optional port). */
    kind: z.enum(['text', 'url', 'host']).default('text'),
  })
  .strict();

const Frontmatter = z
  .object({
    name: SkillName,
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'version must look like 1.2.3'),
    description: z.string().min(1).max(500),
    entry: z.string().regex(/^[a-z0-9-]+\.mjs$/, 'entry must be a .mjs file in the skill folder').default('index.mjs'),
    tools: z.array(ToolDef).min(1).max(32),
    permissions: Permissions.default({ network: [], secrets: [], files: null, processes: [], exec: false, index: false }),
    settings: z.array(Setting).max(16).default([]),
    oauth: z
      .object({ provider: z.literal('google'), scopes: z.array(z.string().url()).min(1).max(16) })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();

export type SkillDefinition = z.output<typeof Frontmatter> & { instructions: string };
export type SkillToolDefinition = SkillDefinition['tools'][number];
export type SkillSettingDefinition = SkillDefinition['settings'][number];

/** A SKILL.md that cannot be used; the message says why. */
export class SkillFormatError extends Error {
  override readonly name = 'SkillFormatError';
}

function splitFrontmatter(text: string): { yaml: string; body: string } {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (!normalized.startsWith('---\n')) throw new SkillFormatError('SKILL.md must start with a "---" frontmatter block');
  const end = normalized.indexOf('\n---', 4);
  if (end < 0) throw new SkillFormatError('SKILL.md frontmatter has no closing "---"');
  const after = normalized.indexOf('\n', end + 4);
  return { yaml: normalized.slice(4, end), body: after < 0 ? '' : normalized.slice(after + 1) };
}

/** Parses and checks a SKILL.md; throws SkillFormatError with the first problems. */
export function parseSkillMd(text: string): SkillDefinition {
  const { yaml, body } = splitFrontmatter(text);
  let raw: unknown;
  try {
    raw = load(yaml, { schema: JSON_SCHEMA });
  } catch (err) {
    throw new SkillFormatError(`frontmatter is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const parsed = Frontmatter.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || 'frontmatter'}: ${i.message}`);
    throw new SkillFormatError(issues.join('; '));
  }
  const def = parsed.data;
  const instructions = body.trim();
  if (instructions.length > MAX_INSTRUCTIONS) throw new SkillFormatError(`instructions are longer than ${MAX_INSTRUCTIONS} characters`);
  checkConsistency(def);
  return { ...def, instructions };
}

function duplicates(names: string[]): string[] {
  return names.filter((n, i) => names.indexOf(n) !== i);
}

function checkConsistency(def: z.output<typeof Frontmatter>): void {
  const prefix = `${def.name.replace(/-/g, '_')}_`;
  for (const tool of def.tools) {
    if (!tool.name.startsWith(prefix)) throw new SkillFormatError(`tool ${tool.name}: names of the ${def.name} skill's tools start with "${prefix}"`);
    const problems = schemaProblems(tool.input);
    if (problems.length > 0) throw new SkillFormatError(`tool ${tool.name}: ${problems.slice(0, 3).join('; ')}`);
    if (tool.input.type !== 'object') throw new SkillFormatError(`tool ${tool.name}: input must be an object schema`);
  }
  const dup = duplicates([...def.tools.map((t) => t.name), ...def.permissions.secrets.map((s) => s.name), ...def.settings.map((s) => s.name)]);
  if (dup.length > 0) throw new SkillFormatError(`names used twice: ${[...new Set(dup)].join(', ')}`);
  for (const host of def.permissions.network) {
    if (!host.startsWith('setting:')) continue;
    const setting = def.settings.find((s) => s.name === host.slice('setting:'.length));
    if (!setting || setting.kind === 'text') throw new SkillFormatError(`permissions.network: ${host} must name a url or host setting`);
  }
  if (def.permissions.files && def.permissions.files.scope !== '.') {
    try {
      workspaceSegments(def.permissions.files.scope);
    } catch (err) {
      throw new SkillFormatError(`permissions.files.scope: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
