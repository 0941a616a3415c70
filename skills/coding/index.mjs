// @ts-check
/**
 * A coding agent over the workspace: reading, searching and patching go
 * through the skill's file scope (regular files only, nothing outside);
 * commands run in the gateway (ctx.exec), which gives them a time limit,
 * an output cap and no secrets, after the user approved that very run.
 */

const MAX_HITS = 200;
const MAX_SEARCH_FILES = 2_000;
const SKIP = /(^|\/)(node_modules|\.git|dist|build)(\/|$)/;

/** @param {string} text */
function numbered(text, start = 1, end = Number.MAX_SAFE_INTEGER) {
  const lines = text.split('\n');
  const last = Math.min(lines.length, end);
  const width = String(last).length;
  const out = [];
  for (let i = start; i <= last; i++) out.push(`${String(i).padStart(width)}  ${lines[i - 1]}`);
  return out.join('\n');
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async coding_read({ path, startLine = 1, endLine }, ctx) {
    const text = await ctx.files.read(path);
    return numbered(text, startLine, endLine);
  },

  async coding_search({ pattern, folder }, ctx) {
    let re;
    try {
      re = new RegExp(pattern);
    } catch {
      re = new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
    const files = (await ctx.files.list(folder || '.')).filter((f) => !f.directory && !SKIP.test(f.path) && f.size < 512 * 1024).slice(0, MAX_SEARCH_FILES);
    const hits = [];
    for (const file of files) {
      if (ctx.signal.aborted) break;
      let text;
      try {
        text = await ctx.files.read(file.path);
      } catch {
        continue;
      }
      if (text.includes('\u0000')) continue;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length && hits.length < MAX_HITS; i++) {
        if (re.test(lines[i])) hits.push(`${file.path}:${i + 1}: ${lines[i].trim().slice(0, 200)}`);
      }
      if (hits.length >= MAX_HITS) break;
    }
    if (hits.length === 0) return `Nothing matches /${re.source}/.`;
    return hits.join('\n') + (hits.length >= MAX_HITS ? `\n[stopped at ${MAX_HITS} matches]` : '');
  },

  async coding_patch({ path, edits, content }, ctx) {
    if (content !== undefined) {
      if (edits?.length) return 'Give either edits or content, not both.';
      await ctx.files.write(path, content);
      return `Wrote ${path} (${content.split('\n').length} lines).`;
    }
    if (!edits?.length) return 'Give the edits (old → new) or the whole content.';
    let text = await ctx.files.read(path);
    for (const [i, edit] of edits.entries()) {
      const at = text.indexOf(edit.old);
      if (at < 0) return `Edit ${i + 1}: its "old" text is not in ${path}; nothing was changed.`;
      if (text.indexOf(edit.old, at + 1) >= 0) return `Edit ${i + 1}: its "old" text occurs more than once in ${path}; give more context. Nothing was changed.`;
      text = text.slice(0, at) + edit.new + text.slice(at + edit.old.length);
    }
    await ctx.files.write(path, text);
    return `Patched ${path} (${edits.length} edit${edits.length === 1 ? '' : 's'}).`;
  },

  async coding_run({ command, timeoutSeconds = 120 }, ctx) {
    const run = await ctx.exec(command, { timeoutMs: timeoutSeconds * 1000 });
    const head = run.timedOut
      ? `Stopped after ${timeoutSeconds} s (time limit).`
      : run.signal
        ? `Ended by ${run.signal}.`
        : `Exit code ${run.exitCode}.`;
    const output = run.output.trim() ? `\n${run.output.trimEnd()}` : '\n(no output)';
    return `$ ${command}\n${head}${output}${run.truncated ? '\n[output cut at the cap]' : ''}`;
  },
};
