/**
 * Skills and tools as clients see them: what the model may call (tool
 * specs), each skill's state and permissions for the Skills page and
 * `autoclaw skills list`, and standing approvals of risky tools.
 */
import { z } from 'zod';

/** A tool as the model sees it: name, what it does, JSON Schema of its input object. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** Skill names: lowercase words joined by dashes (also the folder name). */
export const SkillName = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'skill names are lowercase letters and digits joined by dashes');

/** Tool names: lowercase letters, digits and underscores, starting with a letter. */
export const ToolName = z.string().min(1).max(64).regex(/^[a-z][a-z0-9_]*$/, 'tool names are lowercase letters, digits and underscores');

/** How far a "yes" reaches: this call, this conversation, or every call of the tool. */
export const ApprovalScope = z.enum(['once', 'session', 'always']);
export type ApprovalScope = z.infer<typeof ApprovalScope>;

export const SkillState = z.enum(['enabled', 'disabled', 'refused']);
export type SkillState = z.infer<typeof SkillState>;

export const SkillToolViewSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** Asks the user before it runs. */
  risky: z.boolean(),
  /** Asks every time: a standing approval never covers it (e.g. running a command). */
  everyCall: z.boolean(),
});
export type SkillToolView = z.infer<typeof SkillToolViewSchema>;

export const SkillPermissionsSchema = z.object({
  /** Hosts the skill may reach (`*` = any public host); `setting:NAME` = the host of that setting. */
  hosts: z.array(z.string()),
  /** Folder of the workspace the skill may touch, and how; null when none. */
  files: z.object({ scope: z.string(), access: z.enum(['read', 'read-write']) }).nullable(),
  /** Programs it may start (e.g. chromium). */
  processes: z.array(z.string()),
  /** Runs commands in the workspace through the gateway (always asks). */
  exec: z.boolean(),
  /** Writes to and searches the notes index. */
  index: z.boolean(),
});
export type SkillPermissions = z.infer<typeof SkillPermissionsSchema>;

export const SkillSecretViewSchema = z.object({
  name: z.string(),
  label: z.string(),
  /** Whether a value is stored (values are never shown back). */
  set: z.boolean(),
});

export const SkillSettingViewSchema = z.object({
  name: z.string(),
  label: z.string(),
  value: z.string().nullable(),
  default: z.string().nullable(),
});

export const SkillViewSchema = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string(),
  state: SkillState,
  /** Why the skill was refused (null otherwise). */
  reason: z.string().nullable(),
  tools: z.array(SkillToolViewSchema),
  permissions: SkillPermissionsSchema,
  secrets: z.array(SkillSecretViewSchema),
  settings: z.array(SkillSettingViewSchema),
  /** An account connected through OAuth (Google), when the skill uses one. */
  oauth: z.object({ provider: z.string(), connected: z.boolean() }).nullable(),
});
export type SkillView = z.infer<typeof SkillViewSchema>;

export const StandingApprovalSchema = z.object({
  id: z.string(),
  tool: z.string(),
  scope: z.enum(['session', 'always']),
  /** The conversation it is limited to (scope `session`). */
  sessionId: z.string().nullable(),
  createdAt: z.number(),
});
export type StandingApproval = z.infer<typeof StandingApprovalSchema>;

const SecretValue = z.string().min(1).max(8_192);

export const SkillInputs = {
  skillRef: z.object({ name: SkillName }).strict(),
  setSecret: z.object({ name: SkillName, secret: z.string().min(1).max(64), value: SecretValue.nullable() }).strict(),
  setSetting: z.object({ name: SkillName, setting: z.string().min(1).max(64), value: z.string().max(2_048).nullable() }).strict(),
  approvalRef: z.object({ id: z.string().min(1).max(64) }).strict(),
  oauthStart: z.object({ name: SkillName, redirectUri: z.string().url().max(512).optional() }).strict(),
  oauthFinish: z.object({ state: z.string().min(16).max(128), code: z.string().min(1).max(2_048) }).strict(),
} as const;
