/** Long-term memory the model keeps about the user, searched with SQLite FTS5. */
import { z } from 'zod';
import { LIMITS } from '@autoclaw/shared';
import { defineTool, type InProcessTool } from '../define-tool';

export const memorySave: InProcessTool = defineTool({
  name: 'memory_save',
  description:
    'Remember a fact about the user or their preferences for future conversations. Save one short, self-contained fact per call.',
  risky: false,
  input: z.object({ text: z.string().trim().min(1).max(LIMITS.memoryChars).describe('The fact to remember') }),
  run({ text }, ctx) {
    const memory = ctx.store.saveMemory(text);
    return `Saved memory ${memory.id}.`;
  },
});

export const memorySearch: InProcessTool = defineTool({
  name: 'memory_search',
  description: 'Search what you remembered about the user (full-text search over saved memories, and over notes skills keep).',
  risky: false,
  input: z.object({
    query: z.string().trim().min(1).max(500).describe('Words to look for'),
    limit: z.number().int().min(1).max(50).optional().describe('Most results to return (default 10)'),
  }),
  run({ query, limit }, ctx) {
    const found = ctx.store.searchMemories(query, limit ?? 10);
    const documents = ctx.store.searchSkillDocuments(query, limit ?? 10);
    if (found.length === 0 && documents.length === 0) return 'No saved memory matches.';
    const lines = found.map((m) => `- ${m.text} (saved ${new Date(m.createdAt).toISOString()}, id ${m.id})`);
    // Notes (and other documents skills index) are found by the same words.
    for (const d of documents) lines.push(`- [${d.skill}: ${d.path}] ${d.snippet.replace(/\s+/g, ' ').trim()}`);
    return lines.join('\n');
  },
});
