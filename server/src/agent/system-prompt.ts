/** The system prompt: who the assistant is, today's date, its tools and relevant memories. */
import type { Memory } from '@autoclaw/shared';
import { localIso, timeZoneName, type ToolCatalog } from '../skills';

const PERSONA = [
  "You are AutoClaw, the user's personal AI assistant, running on their own private instance.",
  'Answer helpfully, accurately and concisely; use Markdown when it helps.',
  'When the user tells you a lasting fact about themselves or their preferences, save it with memory_save;',
  'use memory_search when something they told you before may help.',
].join(' ');

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Only the date (not the minute) so the prompt stays the same through a day and providers can cache it. */
export function dateLine(nowMs: number): string {
  const date = localIso(nowMs).slice(0, 10);
  // getDay() rather than Intl: a formatter per turn costs more than the rest of the prompt.
  const weekday = WEEKDAYS[new Date(nowMs).getDay()];
  return `Today is ${weekday}, ${date} (time zone ${timeZoneName()}). Use current_time for the exact time.`;
}

export function toolLines(tools: ToolCatalog): string {
  return tools
    .specs()
    .map((spec) => `- ${spec.name}: ${spec.description}${tools.isRisky(spec.name) ? ' (runs only after the user approves it)' : ''}`)
    .join('\n');
}

export function buildSystemPrompt(input: { nowMs: number; tools: ToolCatalog; memories: readonly Memory[] }): string {
  const parts = [PERSONA, dateLine(input.nowMs), `Your tools:\n${toolLines(input.tools)}`];
  const skills = input.tools.instructions();
  if (skills.length > 0) parts.push(skills);
  if (input.memories.length > 0) {
    parts.push(`Saved memories that may be relevant:\n${input.memories.map((m) => `- ${m.text}`).join('\n')}`);
  }
  return parts.join('\n\n');
}

/** The system prompt of a compaction call; the word "Summarize" marks it. */
export const SUMMARY_SYSTEM_PROMPT = [
  'Summarize the conversation below for your own later use: it will replace the older messages in your context.',
  'Keep every fact about the user, decisions, commitments, open tasks, names, numbers and file paths;',
  'drop small talk. Write plain prose or short bullet points, at most about 300 words.',
].join(' ');
