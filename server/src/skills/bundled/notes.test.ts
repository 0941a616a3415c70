/** The bundled Notes skill: markdown files in the workspace, found through the memory index. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

let f: RuntimeFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe('notes skill', () => {
  it('writes a note as a markdown file, lists, reads and finds it by words; memory_search finds it too', async () => {
    f = runtimeFixture([], { bundled: ['notes'], enable: ['notes'] });
    const wrote = await f.call('notes_write', { title: 'Trip to Sintra', content: 'Pack the blue tent.\nBook the 9:10 train.' });
    expect(wrote).toEqual({ ok: true, content: 'Saved the note notes/trip-to-sintra.md (59 bytes).' });
    expect(readFileSync(join(f.workspaceDir, 'notes', 'trip-to-sintra.md'), 'utf8')).toBe('# Trip to Sintra\n\nPack the blue tent.\nBook the 9:10 train.\n');
    // A note the user wrote by hand is found as well.
    writeFileSync(join(f.workspaceDir, 'notes', 'shopping.md'), '# Shopping\n\noat milk, coffee beans\n');

    expect((await f.call('notes_list', {})).content).toBe('- notes/shopping.md (35 bytes)\n- notes/trip-to-sintra.md (59 bytes)');
    expect(await f.call('notes_search', { query: 'tent' })).toEqual({ ok: true, content: '- notes/trip-to-sintra.md: # Trip to Sintra Pack the blue tent. Book the 9:10 train.' });
    expect((await f.call('notes_search', { query: 'coffee' })).content).toMatch(/^- notes\/shopping\.md: /);
    expect((await f.call('notes_read', { path: 'notes/trip-to-sintra.md' })).content).toContain('Book the 9:10 train.');
    expect((await f.call('memory_search', { query: 'train Sintra' })).content).toBe('- [notes: notes/trip-to-sintra.md] # Trip to Sintra Pack the blue tent. Book the 9:10 train.');
  });

  it('deleting asks first (risky) and forgets the note in the index; no path leaves the notes folder', async () => {
    f = runtimeFixture([], { bundled: ['notes'], enable: ['notes'] });
    expect(f.service.catalog.needsApproval('notes_delete', 's')).toBe(true);
    expect(f.service.catalog.needsApproval('notes_write', 's')).toBe(false);
    await f.call('notes_write', { title: 'Old', content: 'forget me' });
    expect(await f.call('notes_delete', { path: 'notes/old.md' })).toEqual({ ok: true, content: 'Deleted notes/old.md.' });
    expect((await f.call('memory_search', { query: 'forget' })).content).toBe('No saved memory matches.');
    expect((await f.call('notes_read', { path: '../gateway.db' })).content).toBe('notes_read failed: Paths must not contain ".."');
  });
});
