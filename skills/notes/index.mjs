// @ts-check
/**
 * Notes: Markdown files in the workspace's notes/ folder (the skill's file
 * scope). Every note written is put into the gateway's search index, so
 * notes_search and the core memory_search find it by its words.
 */

const MAX_INDEXED = 500;

/** A file name from a title: lowercase words joined by dashes. */
function fileName(/** @type {string} */ title) {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${slug || 'note'}.md`;
}

const indexPath = (/** @type {string} */ path) => `notes/${path}`;
const localPath = (/** @type {string} */ path) => path.replace(/^notes\//, '');

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async notes_write({ title, content }, ctx) {
    const path = fileName(title);
    const text = `# ${title.trim()}\n\n${content.trim()}\n`;
    await ctx.files.write(path, text);
    await ctx.index.put(indexPath(path), text);
    return `Saved the note ${indexPath(path)} (${Buffer.byteLength(text)} bytes).`;
  },

  async notes_read({ path }, ctx) {
    return ctx.files.read(localPath(path));
  },

  async notes_list(_input, ctx) {
    const notes = (await ctx.files.list()).filter((f) => !f.directory && f.path.endsWith('.md'));
    if (notes.length === 0) return 'There are no notes yet.';
    return notes.map((f) => `- ${indexPath(f.path)} (${f.size} bytes)`).join('\n');
  },

  async notes_search({ query }, ctx) {
    // Notes written by hand in the folder are found too: the index is brought up to date first.
    const notes = (await ctx.files.list()).filter((f) => !f.directory && f.path.endsWith('.md')).slice(0, MAX_INDEXED);
    for (const note of notes) await ctx.index.put(indexPath(note.path), await ctx.files.read(note.path));
    const hits = await ctx.index.search(query, 10);
    if (hits.length === 0) return `No note mentions "${query}".`;
    return hits.map((h) => `- ${h.path}: ${h.snippet.replace(/\s+/g, ' ').trim()}`).join('\n');
  },

  async notes_delete({ path }, ctx) {
    await ctx.files.remove(localPath(path));
    await ctx.index.remove(indexPath(localPath(path)));
    return `Deleted ${indexPath(localPath(path))}.`;
  },
};
