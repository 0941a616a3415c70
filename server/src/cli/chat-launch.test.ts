/**
 * How `autoclaw chat` starts: the bin's sh lines (what node_modules/.bin/autoclaw
 * runs) exec node without the gateway's flags for `chat`, through bin/chat.cjs,
 * which runs the chat bundle with a V8 code cache of its own.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { GATEWAY_NODE_FLAGS } from '../manager/drivers/local/local-driver';
import { BIN, ensureBundle, ROOT, runCli, startGatewayProcess } from './cli-harness';
import type { GatewayProcess } from './cli-harness';

const BUNDLE = join(ROOT, 'server/dist/chat.cjs');
const CACHE = `${BUNDLE}.v8cache`;

describe("the bin's launcher lines", () => {
  let stubDir: string;
  beforeAll(() => {
    // A `node` first on PATH that prints the arguments it was exec'd with.
    stubDir = mkdtempSync(join(tmpdir(), 'autoclaw-stub-node-'));
    writeFileSync(join(stubDir, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(stubDir, 'node'), 0o755);
  });
  afterAll(() => rmSync(stubDir, { recursive: true, force: true }));

  it('exec node for `chat` without the gateway flags, through bin/chat.cjs; every other command with them', async () => {
    const env = { PATH: `${stubDir}:/usr/bin:/bin` };
    const chat = await runCli(['chat', '--data', '/d', '-m', 'two words'], { bin: BIN, env });
    const chatArgs = chat.stdout.trimEnd().split('\n');
    expect(chatArgs[0]).toBe('-e');
    expect(chatArgs[1]).toContain('"../chat.cjs"');
    expect(chatArgs.slice(2)).toEqual([BIN, 'chat', '--data', '/d', '-m', 'two words']);
    for (const flag of GATEWAY_NODE_FLAGS) expect(chat.stdout).not.toContain(flag);

    const gateway = await runCli(['gateway', '--data', '/d'], { bin: BIN, env });
    expect(gateway.stdout.trimEnd().split('\n')).toEqual([...GATEWAY_NODE_FLAGS, BIN, 'gateway', '--data', '/d']);
  });
});

describe('autoclaw chat through its launcher', () => {
  let wire: WireServerHandle;
  let dir: string;
  let gw: GatewayProcess;
  let linkDir: string;

  beforeAll(async () => {
    ensureBundle();
    wire = await startAnthropicWireServer({ apiKey: 'sk-ant-launch', wordDelayMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-launch-'));
    gw = await startGatewayProcess(dir, { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-launch', AUTOCLAW_MODEL: 'anthropic:claude-test-model' });
    // As npm installs it: node_modules/.bin/autoclaw is a symlink to the bin.
    linkDir = mkdtempSync(join(tmpdir(), 'autoclaw-bin-'));
    symlinkSync(BIN, join(linkDir, 'autoclaw'));
  });
  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await wire?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(linkDir, { recursive: true, force: true });
  });

  it('answers through the symlinked bin as through `node bin/autoclaw.mjs`, errors included', async () => {
    const bin = join(linkDir, 'autoclaw');
    expect(await runCli(['chat', '--data', dir, '-m', 'through the link'], { bin })).toMatchObject({ code: 0, stdout: 'Echo: through the link\n', stderr: '' });
    expect(await runCli(['chat', '--data', dir, '-m', 'through node'])).toMatchObject({ code: 0, stdout: 'Echo: through node\n', stderr: '' });
    const usage = await runCli(['chat', '--data', dir], { bin });
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(usage.stderr).toMatch(/^autoclaw chat: -m TEXT is required\n\nUsage: autoclaw chat/);
    const offline = await runCli(['chat', '--data', linkDir, '-m', 'anyone?'], { bin });
    expect(offline).toMatchObject({ code: 1, stdout: '' });
    expect(offline.stderr).toMatch(/no gateway running on/);
  });

  it('keeps a V8 code cache of the bundle, made for that bundle: another build\'s or a cut one is replaced, a good one is used as it is', async () => {
    const hash = createHash('sha256').update(readFileSync(BUNDLE)).digest();
    const valid = (): boolean => {
      const file = readFileSync(CACHE);
      return file.subarray(0, 32).equals(hash) && file.readUInt32BE(32) === file.length - 36 && file.length > 36 + 1024;
    };
    const foreign = Buffer.concat([createHash('sha256').update('another build').digest(), Buffer.from([0, 0, 0, 4]), Buffer.from('junk')]);
    const cut = Buffer.concat([hash, Buffer.from([0, 1, 0, 0]), Buffer.from('cut short')]);
    for (const bad of [foreign, cut]) {
      writeFileSync(CACHE, bad);
      expect(await runCli(['chat', '--data', dir, '-m', 'after a bad cache'], { bin: BIN })).toMatchObject({ code: 0, stdout: 'Echo: after a bad cache\n' });
      expect(valid()).toBe(true);
    }
    const made = statSync(CACHE);
    expect(await runCli(['chat', '--data', dir, '-m', 'with the cache'], { bin: BIN })).toMatchObject({ code: 0, stdout: 'Echo: with the cache\n' });
    // Accepted by V8: not written again (a rewrite renames a new file in).
    expect(statSync(CACHE).ino).toBe(made.ino);
  });
});
