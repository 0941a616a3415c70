import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store';
import { SkillToolCatalog } from '../tool-catalog';
import type { ToolCallContext } from '../types';
import { coreSkillTools } from './core-skill';
import { workspaceSegments } from './workspace-path';
import { WORKSPACE_FILE_MAX_BYTES } from './workspace-tools';

let dir: string;
let store: Store;
let ctx: ToolCallContext & { workspaceDir: string; now: () => number };
let tools: SkillToolCatalog;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-tools-'));
  store = openStore({ path: join(dir, 'db.sqlite') });
  ctx = { workspaceDir: join(dir, 'ws'), now: () => Date.UTC(2026, 10, 25, 12, 0, 0), sessionId: 's', toolCallId: 'tc', signal: new AbortController().signal };
  tools = new SkillToolCatalog(coreSkillTools({ store, workspaceDir: ctx.workspaceDir, now: ctx.now }));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('built-in tools', () => {
  it('lists its tools with JSON Schemas and marks the workspace tools risky', () => {
    expect(tools.names()).toEqual(['current_time', 'memory_save', 'memory_search', 'workspace_read_file', 'workspace_write_file']);
    expect(tools.specs().find((s) => s.name === 'workspace_write_file')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    });
    expect(tools.names().filter((name) => tools.isRisky(name))).toEqual(['workspace_read_file', 'workspace_write_file']);
  });

  it('current_time gives the injected time with a time zone', async () => {
    const out = await tools.run('current_time', {}, ctx);
    expect(out.ok).toBe(true);
    const parsed = JSON.parse(out.content) as { utc: string; local: string; timeZone: string };
    expect(parsed.utc).toBe('2026-11-25T12:00:00.000Z');
    expect(new Date(parsed.local).getTime()).toBe(ctx.now());
    expect(parsed.timeZone.length).toBeGreaterThan(0);
  });

  it('memory_save stores and memory_search finds by words (FTS5)', async () => {
    expect((await tools.run('memory_save', { text: 'Anna prefers window seats on trains' }, ctx)).ok).toBe(true);
    await tools.run('memory_save', { text: 'The dog is called Bruno' }, ctx);
    const found = await tools.run('memory_search', { query: 'train seats' }, ctx);
    expect(found.content).toContain('Anna prefers window seats on trains');
    expect(found.content).not.toContain('Bruno');
    expect((await tools.run('memory_search', { query: 'quantum' }, ctx)).content).toBe('No saved memory matches.');
    expect((await tools.run('memory_save', { text: '' }, ctx)).ok).toBe(false);
  });

  it('writes and reads files inside the workspace, making folders', async () => {
    const wrote = await tools.run('workspace_write_file', { path: 'a/b/c.txt', content: 'héllo' }, ctx);
    expect(wrote).toEqual({ ok: true, content: 'Wrote 6 bytes to a/b/c.txt' });
    expect(readFileSync(join(ctx.workspaceDir, 'a/b/c.txt'), 'utf8')).toBe('héllo');
    expect(await tools.run('workspace_read_file', { path: './a/b/c.txt' }, ctx)).toEqual({ ok: true, content: 'héllo' });
    expect((await tools.run('workspace_read_file', { path: 'missing.txt' }, ctx)).content).toMatch(/No file at missing.txt/);
    expect((await tools.run('workspace_read_file', { path: 'a' }, ctx)).content).toMatch(/is a directory/);
  });

  it.each([
    ['../outside.txt', /must not contain "\.\."/],
    ['a/../../outside.txt', /must not contain "\.\."/],
    ['/etc/passwd', /relative to the workspace/],
    ['C:\\Windows\\x', /relative to the workspace/],
    ['~/x', /relative to the workspace/],
    ['a\\..\\..\\x', /must not contain "\.\."/],
  ])('refuses the path %s', async (path, message) => {
    const out = await tools.run('workspace_write_file', { path, content: 'x' }, ctx);
    expect(out.ok).toBe(false);
    expect(out.content).toMatch(message);
  });

  it('refuses symlinks that lead out of the workspace, for reading and writing', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'top secret');
    mkdirSync(ctx.workspaceDir, { recursive: true });
    symlinkSync(outside, join(ctx.workspaceDir, 'link'));
    symlinkSync(join(outside, 'secret.txt'), join(ctx.workspaceDir, 'file-link'));

    for (const path of ['link/secret.txt', 'file-link']) {
      const read = await tools.run('workspace_read_file', { path }, ctx);
      expect(read.ok).toBe(false);
      expect(read.content).toMatch(/outside the workspace/);
    }
    const write = await tools.run('workspace_write_file', { path: 'link/new.txt', content: 'x' }, ctx);
    expect(write.ok).toBe(false);
    expect(write.content).toMatch(/outside the workspace/);
    const overwrite = await tools.run('workspace_write_file', { path: 'file-link', content: 'x' }, ctx);
    expect(overwrite.ok).toBe(false);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
  });

  it('refuses a FIFO at once instead of blocking on it, for reading and writing', async () => {
    mkdirSync(ctx.workspaceDir, { recursive: true });
    execFileSync('mkfifo', [join(ctx.workspaceDir, 'pipe')]);
    const deadline = <T,>(p: Promise<T>) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still blocked after 5 s')), 5_000).unref())]);
    const read = await deadline(tools.run('workspace_read_file', { path: 'pipe' }, ctx));
    expect(read).toEqual({ ok: false, content: 'workspace_read_file failed: pipe is not a regular file' });
    const write = await deadline(tools.run('workspace_write_file', { path: 'pipe', content: 'x' }, ctx));
    expect(write.ok).toBe(false);
    expect(write.content).toMatch(/pipe is not a regular file|nothing reads from it/);
  });

  it('shows paths relative to the workspace in errors, never the absolute one', async () => {
    await tools.run('workspace_write_file', { path: 'a', content: 'a file, not a folder' }, ctx);
    const out = await tools.run('workspace_write_file', { path: 'a/b.txt', content: 'x' }, ctx);
    expect(out.ok).toBe(false);
    expect(out.content).not.toContain(dir);
    expect(out.content).toContain('a/b.txt');
  });

  it('caps file sizes', async () => {
    const big = 'x'.repeat(WORKSPACE_FILE_MAX_BYTES + 1);
    expect((await tools.run('workspace_write_file', { path: 'big.txt', content: big }, ctx)).content).toMatch(/limit is/);
    mkdirSync(ctx.workspaceDir, { recursive: true });
    writeFileSync(join(ctx.workspaceDir, 'big.txt'), big);
    expect((await tools.run('workspace_read_file', { path: 'big.txt' }, ctx)).content).toMatch(/limit is/);
  });

  it('checks path text without touching the disk', () => {
    expect(workspaceSegments('a//b/./c')).toEqual(['a', 'b', 'c']);
    expect(() => workspaceSegments('.')).toThrow(/names no file/);
    expect(() => workspaceSegments('a\0b')).toThrow(/NUL/);
  });
});
