/**
 * The core skill: the built-in tools (time, memory, workspace files). They
 * run in the gateway's process because they need its store, but reach the
 * agent through the same catalog as every other skill's tools.
 */
import type { Store } from '../../store';
import type { InProcessTool } from '../define-tool';
import { DEFAULT_TOOL_TIMEOUT_MS } from '../tool-catalog';
import type { SkillTool } from '../types';
import { currentTime } from './current-time';
import { memorySave, memorySearch } from './memory-tools';
import { workspaceReadFile, workspaceWriteFile } from './workspace-tools';

export const CORE_SKILL = 'core';

export const CORE_TOOLS: readonly InProcessTool[] = [currentTime, memorySave, memorySearch, workspaceReadFile, workspaceWriteFile];

export interface CoreSkillDeps {
  store: Store;
  workspaceDir: string;
  now: () => number;
  /** Tools beyond the built-ins, run the same way (tests add their own). */
  extraTools?: readonly InProcessTool[];
  timeoutMs?: number;
}

export function coreSkillTools(deps: CoreSkillDeps): SkillTool[] {
  return [...CORE_TOOLS, ...(deps.extraTools ?? [])].map(
    (tool): SkillTool => ({
      spec: tool.spec,
      skill: CORE_SKILL,
      risky: tool.risky,
      everyCall: false,
      timeoutMs: tool.timeoutMs ?? deps.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
      async run(input, ctx) {
        const outcome = await tool.run(input, { ...ctx, store: deps.store, workspaceDir: deps.workspaceDir, now: deps.now });
        // Paths in results are the workspace's own; the host's layout stays private.
        return outcome.content.includes(deps.workspaceDir)
          ? { ok: outcome.ok, content: outcome.content.split(deps.workspaceDir).join('<workspace>') }
          : outcome;
      },
    }),
  );
}
