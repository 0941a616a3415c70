/** The built-in tools and the registry that holds them. */
import { currentTime } from './current-time';
import { memorySave, memorySearch } from './memory-tools';
import { ToolRegistry, type RegisteredTool } from './registry';
import { workspaceReadFile, workspaceWriteFile } from './workspace-tools';

export { defineTool, ToolRegistry, MAX_TOOL_RESULT_CHARS } from './registry';
export type { RegisteredTool, ToolContext, ToolDefinition, ToolOutcome } from './registry';
export { WORKSPACE_FILE_MAX_BYTES } from './workspace-tools';

export const BUILTIN_TOOLS: readonly RegisteredTool[] = [
  currentTime,
  memorySave,
  memorySearch,
  workspaceReadFile,
  workspaceWriteFile,
];

export function createBuiltinToolRegistry(extra: readonly RegisteredTool[] = []): ToolRegistry {
  return new ToolRegistry([...BUILTIN_TOOLS, ...extra]);
}
