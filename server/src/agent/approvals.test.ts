/** Standing approvals through the chat service: once, for this conversation, always; revocable. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSkillService } from '../skills';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { TEST_KEY, defaultModel, makeProvider, openHarness, waitFor, type Harness } from './test-harness';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup() {
  const server = await startAnthropicWireServer({ apiKey: TEST_KEY });
  cleanups.push(() => server.close());
  const provider = makeProvider('anthropic', server.url);
  const empty = mkdtempSync(join(tmpdir(), 'autoclaw-noskills-'));
  cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
  const h = await openHarness({
    resolveProvider: () => ({ provider, model: defaultModel('anthropic') }),
    // The gateway's catalog: the core skill, with standing approvals kept in the store.
    toolsFor: (store, dir, workspaceDir) => {
      const skills = createSkillService({ store, vault: null, workspaceDir, tmpDir: join(dir, 'tmp'), skillsDir: empty });
      skills.start();
      return skills.catalog;
    },
  });
  cleanups.push(() => h.close());
  return { h, server };
}

const WRITE = (path: string) => `/tool workspace_write_file {"path":"${path}","content":"x"}`;

async function turn(h: Harness, text: string, sessionId = h.session.id) {
  const user = h.send(text, sessionId);
  await waitFor(() => {
    const status = h.store.getMessage(user.id)?.status;
    const waiting = h.service.history(sessionId).flatMap((m) => m.toolCalls).find((c) => c.status === 'awaiting_approval');
    return status === 'done' || waiting;
  }, 5_000, 'turn to finish or ask');
  return h.service.history(sessionId).flatMap((m) => m.toolCalls).find((c) => c.status === 'awaiting_approval');
}

describe('standing approvals', () => {
  it('"for this conversation" covers later calls of the tool in that session only; revoking asks again', async () => {
    const { h } = await setup();
    const other = h.service.createSession({ name: 'other' });
    const first = await turn(h, WRITE('a.txt'));
    expect(first).toBeDefined();
    h.service.approve(first!.id, true, 'session');
    await h.service.idle();
    expect(await turn(h, WRITE('b.txt'))).toBeUndefined();
    expect(h.service.history(h.session.id).flatMap((m) => m.toolCalls).map((c) => c.status)).toEqual(['done', 'done']);
    const elsewhere = await turn(h, WRITE('c.txt'), other.id);
    expect(elsewhere).toBeDefined();
    h.service.approve(elsewhere!.id, false);
    await h.service.idle();

    const [grant] = h.store.listToolApprovals();
    expect(grant).toMatchObject({ tool: 'workspace_write_file', scope: 'session', sessionId: h.session.id });
    h.store.deleteToolApproval(grant!.id);
    const again = await turn(h, WRITE('d.txt'));
    expect(again).toBeDefined();
    h.service.approve(again!.id, true);
    await h.service.idle();
  });

  it('"always for this tool" covers every session; "once" leaves nothing behind', async () => {
    const { h } = await setup();
    const once = await turn(h, WRITE('a.txt'));
    h.service.approve(once!.id, true, 'once');
    await h.service.idle();
    expect(h.store.listToolApprovals()).toEqual([]);
    const first = await turn(h, WRITE('b.txt'));
    h.service.approve(first!.id, true, 'always');
    await h.service.idle();
    const other = h.service.createSession({ name: 'other' });
    expect(await turn(h, WRITE('c.txt'), other.id)).toBeUndefined();
    expect(h.store.listToolApprovals().map((g) => [g.tool, g.scope])).toEqual([['workspace_write_file', 'always']]);
  });

  it('a "no" with a scope grants nothing', async () => {
    const { h } = await setup();
    const call = await turn(h, WRITE('a.txt'));
    h.service.approve(call!.id, false, 'always');
    await h.service.idle();
    expect(h.store.listToolApprovals()).toEqual([]);
  });
});

