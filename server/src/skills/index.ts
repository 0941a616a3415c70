/**
 * The skills part's door: the tool catalog (the seam every tool reaches the
 * agent through), the core skill, and in-process tool definitions.
 */
export type { ApprovalPolicy, SkillTool, ToolCallContext, ToolCatalog, ToolOutcome } from './types';
export { SkillToolCatalog, STOPPED_RESULT, DEFAULT_TOOL_TIMEOUT_MS } from './tool-catalog';
export { defineTool, MAX_TOOL_RESULT_CHARS, type InProcessTool, type InProcessContext } from './define-tool';
export { coreSkillTools, CORE_SKILL, CORE_TOOLS, type CoreSkillDeps } from './core/core-skill';
export { WORKSPACE_FILE_MAX_BYTES } from './core/workspace-tools';
export { localIso, timeZoneName } from './core/current-time';
export { verifySkills, type VerifiedSkill } from './vetting/verify';
export { vetSkills, type VetResult } from './vetting/vet';
export { BUILTIN_SKILLS_PUBLIC_KEY, trustedSkillKeys } from './vetting/builtin-key';
export { parseSkillMd, SkillFormatError, type SkillDefinition } from './format/skill-md';
export { createSkillService, type SkillService, type SkillServiceDeps } from './skill-service';
export { bundledSkillsDir, findChromium } from './runtime/locate';
export { SILENT_SKILL_LOGGER, type SkillLogger } from './types';
