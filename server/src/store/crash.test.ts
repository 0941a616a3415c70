/**
 * kill -9 in the middle of writing: a child process runs the real store
 * (bundled with esbuild) and prints each message's client id after its commit
 * returned; the parent SIGKILLs it mid-loop, reopens the file and checks that
 * every acknowledged message is there, whole, and the file is sound.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_TOOL_RESULT } from './recovery';
import { openStore } from './sqlite-store';

const STORE_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));
const SQLITE_MAIN = createRequire(import.meta.url).resolve('better-sqlite3');

/** Text of message i, the same in child and parent; some span overflow pages. */
const TEXT_FOR = `(i) => 'message ' + i + ': ' + 'abcdefghij'.repeat(i % 7 === 0 ? 2000 : i % 300)`;
const textFor = new Function('i', `return (${TEXT_FOR})(i);`) as (i: number) => string;

const CHILD = `
import { writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openStore } from ${JSON.stringify(STORE_ENTRY)};

const [path, sessionId] = process.argv.slice(2);
const textFor = ${TEXT_FOR};
const ack = (line) => writeSync(1, line + '\\n');
const store = openStore({ path });
// A turn in flight when the process dies.
const turn = store.insertUserMessage({ sessionId, clientId: 'crash-turn-0', text: 'the turn' }).message;
store.setMessageStatus(turn.id, 'running');
const answer = store.createAssistantMessage({ sessionId, turnId: turn.id, model: 'test:model' });
store.insertToolCalls(answer.id, [{ id: 'crash_call', name: 'write_file', input: '{}', risky: true, status: 'awaiting_approval' }]);
// A second connection checkpoints now and then, so the kill may land mid-checkpoint too.
const checkpointer = new Database(path);
ack('ready');
for (let i = 0; ; i += 4) {
  const single = store.insertUserMessage({ sessionId, clientId: 'crash-id-' + i, text: textFor(i) });
  ack('ack ' + single.message.clientId);
  const batch = store.insertUserMessages([1, 2, 3].map((k) => ({ sessionId, clientId: 'crash-id-' + (i + k), text: textFor(i + k) })));
  for (const outcome of batch) ack('ack ' + (outcome.ok ? outcome.result.message.clientId : 'error ' + outcome.error.message));
  store.setMessageText(answer.id, 'x'.repeat(i % 5000));
  if (i % 200 === 0) checkpointer.pragma('wal_checkpoint(PASSIVE)');
}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-crash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function bundleChild(): Promise<string> {
  const entry = join(dir, 'child-entry.mjs');
  const out = join(dir, 'child.mjs');
  writeFileSync(entry, CHILD);
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // The native addon stays where it is installed.
    plugins: [
      {
        name: 'installed-better-sqlite3',
        setup(b) {
          b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: SQLITE_MAIN, external: true }));
        },
      },
    ],
  });
  return out;
}

/** Runs the child until `enough` acks arrived (or a deadline), SIGKILLs it, returns every acked client id. */
function runAndKill(script: string, path: string, sessionId: string, enough: number): Promise<{ acked: string[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, sessionId], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let buffered = '';
    let stderr = '';
    const kill = () => child.kill('SIGKILL');
    const deadline = setTimeout(kill, 15_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? ''; // an unfinished line is not an acknowledgement
      for (const line of lines) {
        if (line.startsWith('ack ')) acked.push(line.slice(4));
      }
      if (acked.length >= enough) kill();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (code ${code}): ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged message whole after kill -9', async () => {
    const path = join(dir, 'data', 'gateway.sqlite');
    const setup = openStore({ path });
    const sessionId = setup.ensureSession('main').id;
    setup.close();

    const script = await bundleChild();
    const { acked } = await runAndKill(script, path, sessionId, 2_000);
    expect(acked.length).toBeGreaterThanOrEqual(100);
    expect(acked.filter((id) => id.startsWith('error'))).toEqual([]);

    const store = openStore({ path });
    const report = store.recover();
    expect(report).toMatchObject({ interruptedTurns: 1, interruptedMessages: 1, interruptedToolCalls: 1 });
    expect(store.getToolCall('crash_call')).toMatchObject({ status: 'error', result: INTERRUPTED_TOOL_RESULT });

    const messages = store.listMessages(sessionId);
    const byClientId = new Map(messages.map((m) => [m.clientId, m]));
    for (const clientId of acked) expect(byClientId.has(clientId), `acknowledged ${clientId} is missing`).toBe(true);
    // No half-written row: every stored message (acknowledged or not yet) is exactly what was sent.
    let loopMessages = 0;
    for (const message of messages) {
      if (message.role === 'assistant') {
        expect(message.text).toMatch(/^x*$/);
        expect(message.status).toBe('interrupted');
        continue;
      }
      if (message.clientId === 'crash-turn-0') continue;
      loopMessages += 1;
      const i = Number(message.clientId?.slice('crash-id-'.length));
      expect(message.text, `message ${message.clientId}`).toBe(textFor(i));
    }
    // A batch is one transaction: never a part of one.
    expect(loopMessages % 4 === 0 || loopMessages % 4 === 1).toBe(true);
    store.close();

    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});
