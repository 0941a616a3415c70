/**
 * The `autoclaw` CLI end to end: real processes from the built bundle, a real
 * gateway process, the real Anthropic SDK against a local wire server.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authPayload, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import type { Device, Message } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { generateDeviceKey, signPayload } from '../security';
import type { DeviceKeyPair } from '../security';
import { runtimeFilePath } from '../gateway';
import { openRawSocket, signedParams } from '../gateway/test-kit';
import { ensureBundle, runCli, startGatewayProcess } from './cli-harness';
import type { GatewayProcess } from './cli-harness';

describe('autoclaw CLI', () => {
  let wire: WireServerHandle;
  let dir: string;
  let gw: GatewayProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    ensureBundle();
    wire = await startAnthropicWireServer({ apiKey: 'sk-ant-right', wordDelayMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-cli-'));
    // No key in the environment: it is set later with `config set`, while the gateway runs.
    env = { ANTHROPIC_BASE_URL: wire.url, AUTOCLAW_MODEL: 'anthropic:claude-test-model' };
    gw = await startGatewayProcess(dir, env);
  });
  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await wire?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** POST /auth/pair for `key` with a code printed by `autoclaw pair`. */
  async function pairWithCode(code: string, key: DeviceKeyPair): Promise<Response> {
    const challenge = (await (await fetch(`${gw.url}/auth/challenge`)).json()) as { nonce: string };
    const ts = Date.now();
    return fetch(`${gw.url}/auth/pair`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        pairingCode: code,
        publicKey: key.publicKey,
        deviceName: 'CLI test browser',
        nonce: challenge.nonce,
        timestamp: ts,
        signature: signPayload(key.privateKey, authPayload(challenge.nonce, key.deviceId, ts)),
      }),
    });
  }

  it('gateway prints its URL on its own line, then a pairing code, and writes the runtime file', async () => {
    expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect.poll(() => gw.lines.length).toBeGreaterThan(1);
    expect(gw.lines[1]).toMatch(/^Pairing code: [0-9A-Z]{4}-[0-9A-Z]{4}\b/);
    const runtime = JSON.parse(readFileSync(runtimeFilePath(dir), 'utf8')) as { url: string; pid: number };
    expect(runtime).toMatchObject({ url: gw.url, pid: gw.child.pid });
    expect(await (await fetch(`${gw.url}/readyz`)).json()).toEqual({ ready: true });
  });

  it('chat fails clearly without a key, works once `config set` stored one (no restart)', async () => {
    const failed = await runCli(['chat', '--data', dir, '--session', 'nokey', '-m', 'hello before the key']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/NOT_CONFIGURED/);

    const set = await runCli(['config', 'set', '--data', dir, 'anthropic.apiKey'], { input: 'sk-ant-right\n' });
    expect(set).toMatchObject({ code: 0, stdout: 'set anthropic.apiKey (stored encrypted)\n' });
    for (const file of readdirSync(dir).filter((f) => f.startsWith('gateway.db'))) {
      expect(readFileSync(join(dir, file)).includes('sk-ant-right'), file).toBe(false);
    }

    const ok = await runCli(['chat', '--data', dir, '-m', 'hello world']);
    expect(ok.stderr).toBe('');
    expect(ok).toMatchObject({ code: 0, stdout: 'Echo: hello world\n' });
  });

  it('chat streams as the answer arrives, in a named session', async () => {
    const res = await runCli(['chat', '--data', dir, '--session', 'work', '-m', 'one two three four /slow']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('Echo: one two three four /slow\n');
    expect(res.chunks.length).toBeGreaterThan(2);
  });

  it('a failed turn exits 1 with its error code', async () => {
    await runCli(['config', 'set', '--data', dir, 'anthropic.apiKey'], { input: 'sk-ant-wrong' });
    const res = await runCli(['chat', '--data', dir, '--session', 'wrongkey', '-m', 'with a wrong key']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/the turn failed \(PROVIDER_AUTH: /);
    await runCli(['config', 'set', '--data', dir, 'anthropic.apiKey'], { input: 'sk-ant-right' });
  });

  it('history prints the session as JSON with role and text', async () => {
    const res = await runCli(['history', '--data', dir, '--session', 'main', '--json']);
    expect(res.code).toBe(0);
    const messages = JSON.parse(res.stdout) as Message[];
    const pairs = messages.map((m) => [m.role, m.text]);
    expect(pairs).toContainEqual(['user', 'hello world']);
    expect(pairs).toContainEqual(['assistant', 'Echo: hello world']);
    expect(messages[0]).toMatchObject({ id: expect.any(String), status: expect.any(String), createdAt: expect.any(Number) });
    const missing = await runCli(['history', '--data', dir, '--session', 'nope', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no session named "nope"/);
  });

  it('pair, devices list and devices revoke (which closes the device socket at once)', async () => {
    const paired = await runCli(['pair', '--data', dir]);
    expect(paired.code).toBe(0);
    const code = paired.stdout.trim();
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);

    const key = generateDeviceKey();
    expect((await pairWithCode(code, key)).status).toBe(200);

    const listed = await runCli(['devices', 'list', '--data', dir, '--json']);
    expect(listed.code).toBe(0);
    const devices = JSON.parse(listed.stdout) as Device[];
    expect(devices.map((d) => d.kind).sort()).toEqual(['client', 'operator']);
    expect(devices.find((d) => d.kind === 'operator')?.current).toBe(true);
    const table = await runCli(['devices', 'list', '--data', dir]);
    expect(table.stdout).toContain(key.deviceId);

    const { nonce } = (await (await fetch(`${gw.url}/auth/challenge`)).json()) as { nonce: string };
    const socket = await openRawSocket(`${gw.url.replace('http', 'ws')}/trpc`);
    socket.send({ method: 'connectionParams', data: signedParams(key, nonce) });
    expect((await socket.call('query', 'auth.whoami'))['result']).toBeDefined();

    const revoked = await runCli(['devices', 'revoke', '--data', dir, key.deviceId]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${key.deviceId}\n` });
    expect((await socket.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    const unknown = await runCli(['devices', 'revoke', '--data', dir, 'no-such-device']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no device no-such-device/);
  });

  it('pair --role chat pairs a chat-only device; devices role promotes it; config audit shows who changed what', async () => {
    const paired = await runCli(['pair', '--data', dir, '--role', 'chat']);
    expect(paired.stderr).toMatch(/pair as chat/);
    const key = generateDeviceKey();
    expect((await pairWithCode(paired.stdout.trim(), key)).status).toBe(200);
    const listed = JSON.parse((await runCli(['devices', 'list', '--data', dir, '--json'])).stdout) as Device[];
    expect(listed.find((d) => d.id === key.deviceId)).toMatchObject({ role: 'chat' });
    expect((await runCli(['devices', 'list', '--data', dir])).stdout).toMatch(new RegExp(`${key.deviceId}\\s+client\\s+chat\\s+active`));

    const promoted = await runCli(['devices', 'role', '--data', dir, key.deviceId, 'owner']);
    expect(promoted).toMatchObject({ code: 0, stdout: `${key.deviceId} is now an owner device\n` });
    expect((await runCli(['devices', 'role', '--data', dir, key.deviceId, 'admin'])).code).toBe(2);
    expect((await runCli(['pair', '--data', dir, '--role', 'admin'])).code).toBe(2);

    const set = await runCli(['config', 'set', '--data', dir, 'openai.baseUrl'], { input: 'http://127.0.0.1:9/v1' });
    expect(set.code).toBe(0);
    const audit = await runCli(['config', 'audit', '--data', dir, '--json']);
    expect(audit.code).toBe(0);
    const entries = JSON.parse(audit.stdout) as Array<{ action: string; target: string; deviceId: string | null; oldValue: string | null; newValue: string | null }>;
    expect(entries[0]).toMatchObject({ action: 'settings.endpoint', target: 'openai.baseUrl', deviceId: null, oldValue: 'default', newValue: '127.0.0.1:9' });
    const operatorId = listed.find((d) => d.kind === 'operator')!.id;
    expect(entries[1]).toMatchObject({ action: 'devices.role', target: key.deviceId, deviceId: operatorId, oldValue: 'chat', newValue: 'owner' });
    expect(audit.stdout).not.toMatch(/sk-ant/);
    const table = await runCli(['config', 'audit', '--data', dir]);
    expect(table.stdout).toMatch(/settings\.endpoint openai\.baseUrl default → 127\.0\.0\.1:9/);
    await runCli(['config', 'set', '--data', dir, 'openai.baseUrl'], { input: '' });
  });

  // Issue 8, item 2: failures slow the failing, never the operator or a paired device.
  it('after ten bad connections from this address, the operator CLI and a paired device still connect', async () => {
    const key = generateDeviceKey();
    expect((await pairWithCode((await runCli(['pair', '--data', dir])).stdout.trim(), key)).status).toBe(200);
    const wsUrl = `${gw.url.replace('http', 'ws')}/trpc`;
    for (let i = 0; i < 10; i++) {
      const idle = await openRawSocket(wsUrl);
      idle.ws.close();
      await idle.closed;
    }
    let last = { code: 0, reason: '' };
    for (let i = 0; i < 10; i++) {
      const bad = await openRawSocket(wsUrl);
      bad.send({ method: 'connectionParams', data: signedParams(generateDeviceKey(), 'made-up-nonce') });
      last = await bad.closed;
    }
    expect(last).toMatchObject({ code: WS_CLOSE_RATE_LIMITED });

    const listed = await runCli(['devices', 'list', '--data', dir, '--json']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(listed.stdout) as Device[]).some((d) => d.id === key.deviceId)).toBe(true);
    const chat = await runCli(['chat', '--data', dir, '--session', 'after-lockout', '-m', 'still here']);
    expect(chat).toMatchObject({ code: 0, stdout: 'Echo: still here\n' });

    const { nonce } = (await (await fetch(`${gw.url}/auth/challenge`)).json()) as { nonce: string };
    const socket = await openRawSocket(wsUrl);
    socket.send({ method: 'connectionParams', data: signedParams(key, nonce) });
    expect((await socket.call('query', 'auth.whoami'))['result']).toBeDefined();
    socket.ws.close();

    // Guessing pairing codes from here stays slowed.
    const guess = await pairWithCode('ZZZZ-ZZZZ', generateDeviceKey());
    expect(guess.status).toBe(429);
    expect(await guess.json()).toMatchObject({ error: { code: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } } });
  });

  it('refuses bad usage with exit 2 and a usage text', async () => {
    for (const args of [['bogus'], ['chat', '--data', dir], ['chat', '--data', dir, '-m', 'x', '--nope'], ['config', 'set', '--data', dir, 'nope.key'], ['gateway']]) {
      const res = await runCli(args);
      expect([args.join(' '), res.code]).toEqual([args.join(' '), 2]);
      expect(res.stderr).toMatch(/Usage: autoclaw/);
    }
    const help = await runCli(['history', '--help']);
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toMatch(/^Usage: autoclaw history/);
  });

  it('chat without a running gateway fails with a clear message', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'autoclaw-cli-none-'));
    try {
      const res = await runCli(['chat', '--data', empty, '-m', 'anyone?']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/no gateway running on/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('without a gateway, history and devices read the data directory directly', async () => {
    const other = mkdtempSync(join(tmpdir(), 'autoclaw-cli-offline-'));
    try {
      const g = await startGatewayProcess(other, { ...env, ANTHROPIC_API_KEY: 'sk-ant-right' });
      expect((await runCli(['chat', '--data', other, '-m', 'offline later'])).code).toBe(0);
      expect(await g.stop('SIGTERM')).toBe(0);
      expect(existsSync(runtimeFilePath(other))).toBe(false);
      const history = await runCli(['history', '--data', other, '--session', 'main', '--json']);
      expect(history.code).toBe(0);
      expect((JSON.parse(history.stdout) as Message[]).map((m) => m.text)).toEqual(['offline later', 'Echo: offline later']);
      const devices = await runCli(['devices', 'list', '--data', other, '--json']);
      expect((JSON.parse(devices.stdout) as Device[]).map((d) => d.kind)).toEqual(['operator']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('SIGTERM stops the gateway with exit 0 and removes the runtime file', async () => {
    expect(await gw.stop('SIGTERM')).toBe(0);
    expect(existsSync(runtimeFilePath(dir))).toBe(false);
  });
});

describe('crash: kill -9 mid-turn', () => {
  it('keeps the user message (interrupted) and the turn can be retried after restart', async () => {
    ensureBundle();
    const wire = await startAnthropicWireServer();
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-crash-'));
    const env = { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' };
    let gw = await startGatewayProcess(dir, env);
    try {
      let streamed = '';
      let sawText: () => void = () => {};
      const firstText = new Promise<void>((resolve) => {
        sawText = resolve;
      });
      const chat = runCli(['chat', '--data', dir, '-m', 'tell me a story /hang'], {
        onStdout: (text) => {
          streamed += text;
          sawText();
        },
      });
      await firstText;
      await gw.stop('SIGKILL');
      const cut = await chat;
      expect(cut.code).not.toBe(0);
      expect(cut.stderr).toMatch(/lost the connection|cannot reach/);
      expect(streamed.length).toBeGreaterThan(0);
      // The runtime file of the dead gateway is stale now.
      expect((await runCli(['chat', '--data', dir, '-m', 'anyone?'])).stderr).toMatch(/no gateway running/);

      gw = await startGatewayProcess(dir, env);
      const history = await runCli(['history', '--data', dir, '--session', 'main', '--json']);
      const messages = JSON.parse(history.stdout) as Message[];
      const userMessage = messages.find((m) => m.role === 'user');
      expect(userMessage).toMatchObject({ text: 'tell me a story /hang', status: 'interrupted' });
      const partial = messages.find((m) => m.role === 'assistant');
      expect(partial?.status).toBe('interrupted');

      // Retry through the gateway, as the operator device; the provider now finishes the answer.
      wire.enqueue({ kind: 'text', text: ' and they lived happily ever after.' });
      const { connectAsDevice } = await import('./gateway-client');
      const { loadOperatorKey } = await import('../security');
      const conn = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir) });
      try {
        const retried = await conn.client.chat.retry.mutate({ messageId: userMessage!.id });
        expect(retried.id).toBe(userMessage!.id);
        await expect
          .poll(async () => (await conn.client.chat.history.query({ sessionId: userMessage!.sessionId })).find((m) => m.id === userMessage!.id)?.status, {
            timeout: 10_000,
          })
          .toBe('done');
        const after = await conn.client.chat.history.query({ sessionId: userMessage!.sessionId });
        expect(after.filter((m) => m.role === 'user')).toHaveLength(1);
        expect(after.map((m) => m.text).join('\n')).toContain('happily ever after');
      } finally {
        await conn.close();
      }
      expect(await gw.stop('SIGTERM')).toBe(0);
    } finally {
      await gw.stop('SIGKILL');
      await wire.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
