/**
 * Signal end to end: the gateway's Signal channel against a local signal-cli
 * daemon (JSON-RPC over HTTP + the SSE event stream), reached by URL, or
 * spawned and supervised through a stand-in `signal-cli` executable.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { processRunning as alive, writeFakeSignalCli } from '../../testing/fake-signal-cli';
import { startSignalCliServer, type SignalCliServer, type SignalUser } from '../../testing/signal-cli-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

let sig: SignalCliServer;
let h: ChannelGateway;

const ALICE: SignalUser = { number: '+15550000002', uuid: '0a0a0a0a-0000-4000-8000-000000000002', name: 'Alice' };
const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => h.connect('signal', [['signal.url' as const, sig.url], ['signal.account' as const, '+15550000001'], ...extra]);
const answer = (text: string) => sig.waitForSent((s) => s.message === text);

afterEach(async () => {
  await h.close();
  await sig.close();
});

describe('signal channel (remote daemon by URL)', () => {
  beforeEach(async () => {
    sig = await startSignalCliServer();
    h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 2_000 } });
  });

  it('answers a direct message with one turn per message, and pairs strangers', async () => {
    await connect([['signal.allowFrom', ALICE.number]]);
    expect(sig.calls.find((c) => c.method === 'listIdentities')?.params).toEqual({ account: '+15550000001' });
    const first = sig.incoming(ALICE, 'hello signal');
    const sent = await answer('Echo: hello signal');
    expect(sent.recipient).toEqual([ALICE.number]);
    expect(sent.account).toBe('+15550000001');
    sig.redeliver(first);
    sig.incoming(ALICE, 'second');
    await answer('Echo: second');
    expect(h.gw.wire.requests).toHaveLength(2);
    expect(sig.calls.some((c) => c.method === 'sendTyping')).toBe(true);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'signal')?.title).toBe('Signal · Alice');

    sig.incoming({ number: '+15550000099', uuid: '0c0c0c0c-0000-4000-8000-000000000099', name: 'Stranger' }, 'hi');
    const pairing = await sig.waitForSent((s) => /pairing code is [A-Z0-9]{8}/.test(s.message));
    expect(pairing.recipient).toEqual(['+15550000099']);
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('in a group answers mentions only, quoting the message', async () => {
    await connect([['signal.dmPolicy', 'open']]);
    const group = { id: 'Z3JvdXAtaWQtMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDE=', name: 'Family' };
    sig.incoming(ALICE, 'dinner at 8', { group });
    const asked = sig.incoming(ALICE, 'what is for dinner?', { group, mentionMe: true });
    const sent = await answer('Echo: what is for dinner?');
    expect(sent.groupId).toBe(group.id);
    expect(sent.recipient).toEqual([]);
    expect(sent.quoteTimestamp).toBe(asked.timestamp);
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'signal')?.title).toBe('Signal · Family');
  });

  it('brings attachments in, takes approvals by reply command, and sends the file the agent wrote', async () => {
    await connect([['signal.dmPolicy', 'open']]);
    sig.incoming(ALICE, 'see attached', { attachment: { filename: 'list.txt', contentType: 'text/plain', bytes: Buffer.from('bread') } });
    await h.until('the answer', () => sig.sent.find((s) => s.message.startsWith('Echo: see attached')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/signal\/[^ ]+list\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('bread');

    sig.incoming(ALICE, '/tool workspace_write_file {"path":"shop.txt","content":"milk"}');
    const prompt = await sig.waitForSent((s) => s.message.startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/.exec(prompt.message)![1]!;
    sig.incoming(ALICE, `approve ${code}`);
    const file = await sig.waitForSent((s) => s.attachments.length > 0);
    expect(file.attachments[0]).toMatchObject({ filename: 'shop.txt', contentType: 'text/plain' });
    expect(file.attachments[0]!.bytes.toString()).toBe('milk');
    await answer('Tool workspace_write_file returned: Wrote 4 bytes to shop.txt');
  });

  it('reopens a cut event stream after the last stored event: nothing lost, nothing twice', async () => {
    await connect([['signal.dmPolicy', 'open']]);
    sig.incoming(ALICE, 'before the cut');
    await answer('Echo: before the cut');
    sig.cut();
    sig.incoming(ALICE, 'during the cut');
    await answer('Echo: during the cut');
    await h.until('the stream reopened', () => sig.streams === 1);
    // It resumed after the event of the message stored last.
    expect(sig.resumedFrom).toEqual([null, '1']);
    expect(h.gw.wire.requests).toHaveLength(2);
    expect(sig.sent.filter((s) => s.message === 'Echo: before the cut')).toHaveLength(1);
  });

  it('links by QR code when no account is set, and keeps the link', async () => {
    await sig.close();
    sig = await startSignalCliServer({ linked: false });
    await h.set('signal.url', sig.url);
    await h.set('signal.dmPolicy', 'open');
    await h.enable('signal');
    const shown = await h.until('the link QR code', async () => (await h.status('signal')).qr);
    expect(shown).toMatch(/^sgnl:\/\/linkdevice\?uuid=/);
    expect(sig.calls.find((c) => c.method === 'finishLink')?.params).toMatchObject({ deviceLinkUri: shown, deviceName: 'AutoClaw' });
    sig.scanLink();
    await h.until('the QR code to go', async () => (await h.status('signal')).qr === null);
    expect((await h.status('signal')).account).toBe('+15550000001');
    await h.until('the stream', () => sig.streams === 1);
    sig.incoming(ALICE, 'linked?');
    await answer('Echo: linked?');
    // The linked account is kept: a reconnect listens to it without a new QR code.
    await h.client.channels.setEnabled.mutate({ name: 'signal', enabled: false });
    await h.enable('signal');
    await h.waitForState('signal', 'connected');
    await h.until('the stream again', () => sig.streams === 1);
    expect(sig.calls.filter((c) => c.method === 'startLink')).toHaveLength(1);
    expect((await h.status('signal')).qr).toBeNull();
  });

  it('is down when the daemon does not have the configured account', async () => {
    await h.set('signal.url', sig.url);
    await h.set('signal.account', '+15559999999');
    await h.enable('signal');
    const status = await h.waitForState('signal', 'down');
    expect(status.lastError).toMatch(/signal-cli has no account \+15559999999/);
  });

  it('refuses a signal.account that is not a phone number, changing nothing', async () => {
    await h.status('signal');
    const before = h.gw.gateway.store.dump();
    await expect(h.set('signal.account', 'alice')).rejects.toThrow(/international form/);
    expect(h.gw.gateway.store.dump()).toEqual(before);
  });
});

describe('signal channel (supervised local daemon)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-signal-cli-'));
    sig = await startSignalCliServer();
    // The start limit is the liveness limit: a Node process may take seconds to start on a loaded machine.
    h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 15_000 } });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('spawns signal-cli daemon, restarts it when it dies without losing messages, and stops it', async () => {
    const cli = writeFakeSignalCli(dir, sig.url);
    await h.connect('signal', [
      ['signal.cliPath', cli.path],
      ['signal.account', '+15550000001'],
      ['signal.dmPolicy', 'open'],
    ]);
    const first = cli.starts().at(-1);
    expect(first!.args).toEqual(['daemon', expect.stringMatching(/^--http=127\.0\.0\.1:\d+$/), '--receive-mode=manual', '--no-receive-stdout']);
    sig.incoming(ALICE, 'hi daemon');
    await answer('Echo: hi daemon');

    process.kill(first!.pid, 'SIGKILL');
    await h.waitForState('signal', 'reconnecting');
    sig.incoming(ALICE, 'while it was down');
    await h.waitForState('signal', 'connected');
    await answer('Echo: while it was down');
    // Restarted (more than once if a start outlasted the start limit), and no daemon left behind.
    const starts = cli.starts();
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(h.gw.wire.requests).toHaveLength(2);
    const second = starts.at(-1)!;
    expect(starts.slice(0, -1).filter((s) => alive(s.pid))).toEqual([]);
    expect(alive(second.pid)).toBe(true);
    await h.client.channels.setEnabled.mutate({ name: 'signal', enabled: false });
    await h.until('the daemon to stop', () => !alive(second.pid));
  });

  it('is down with a clear reason when signal-cli cannot be found', async () => {
    await h.set('signal.cliPath', join(dir, 'no-such-signal-cli'));
    await h.enable('signal');
    const status = await h.waitForState('signal', 'down');
    expect(status.lastError).toMatch(/signal-cli could not be started .*ENOENT.*signal\.cliPath/);
  });
});
