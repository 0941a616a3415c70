/**
 * A gateway past its memory limit is restarted gracefully, between turns:
 * the supervisor drains it through the manager device (the running turn
 * finishes, new ones are refused), then stops and starts it. The answer in
 * flight is complete afterwards, and the restarted gateway still reads the
 * secrets stored before (its data key came through the pipe again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsDevice } from '../../cli';
import { generateDeviceKey, signPayload } from '../../security';
import { startAnthropicWireServer } from '../../testing';
import type { WireServerHandle } from '../../testing';
import { bundleGatewayCommand, startHarness, waitFor } from '../drivers/local/test-support';
import type { Harness } from '../drivers/local/test-support';
import { pairWithTicket } from '../instances';
import { createSupervisor } from './supervisor';

describe('memory limit', () => {
  let h: Harness;
  let wire: WireServerHandle;
  let dispose: () => void;
  beforeAll(async () => {
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    wire = await startAnthropicWireServer({ apiKey: 'sk-test-memory' });
    h = await startHarness(bundle.command, {
      service: { gatewayEnv: { AUTOCLAW_MODEL: 'anthropic:claude-test-model', ANTHROPIC_BASE_URL: wire.url } },
    });
  });
  afterAll(async () => {
    await h.close();
    await wire.close();
    dispose();
  });

  it('drains the running turn, restarts, and keeps the history and the stored key', async () => {
    const instance = await h.service.provision('memory@example.com');
    const key = generateDeviceKey();
    const { ticket, gatewayUrl } = await h.service.issueTicket(instance.id, key.publicKey, 'laptop');
    await pairWithTicket(gatewayUrl, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) });
    const conn = connectAsDevice({ url: gatewayUrl, key });
    await conn.call(conn.client.settings.set.mutate({ key: 'anthropic.apiKey', value: 'sk-test-memory' }));
    const session = await conn.call(conn.client.sessions.ensure.mutate({ name: 'main' }));
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const sent = await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'memory-test-0001', text: `/slow ${words}` }));
    await waitFor('the turn to stream', () => wire.requests.length > 0);

    const supervisor = createSupervisor({ service: h.service, driver: h.driver, intervalMs: 60_000, memoryRestartMinIntervalMs: 0 });
    try {
      await h.service.setMemoryLimit(instance.id, 16);
      supervisor.start();
      await supervisor.tick();
      const after = await h.service.mustGet(instance.id);
      expect(after.state).toBe('running');
      expect(after.pid).not.toBe(instance.pid);
      expect(after.port).toBe(instance.port);
      await h.service.setMemoryLimit(instance.id, 1024);
      await supervisor.tick();
      expect((await h.service.mustGet(instance.id)).pid).toBe(after.pid);
    } finally {
      await supervisor.stop();
      await conn.close();
    }

    const memory = (await h.service.events(instance.id)).filter((e) => e.kind === 'memory').map((e) => e.message);
    expect(memory[0]).toMatch(/^memory \d+ MiB passed the limit of 16 MiB$/);
    expect(memory[1]).toBe('running turns finished; restarting');
    expect(memory[2]).toMatch(/^back up in \d+ ms$/);
    expect((await h.service.mustGet(instance.id)).restarts).toBe(1);

    // A new connection to the restarted gateway: the answer that was streaming is whole.
    const again = connectAsDevice({ url: gatewayUrl, key });
    try {
      const history = await again.call(again.client.chat.history.query({ sessionId: session.id }));
      const answer = history.find((m) => m.role === 'assistant');
      expect(history.find((m) => m.id === sent.message.id)?.status).toBe('done');
      expect(answer).toMatchObject({ status: 'done' });
      expect(answer?.text).toContain('w29');
      // The API key stored before the restart still decrypts: a second turn is answered.
      await again.call(again.client.chat.send.mutate({ sessionId: session.id, clientId: 'memory-test-0002', text: 'after the restart' }));
      await waitFor('the second answer', async () => {
        const msgs = await again.call(again.client.chat.history.query({ sessionId: session.id }));
        return msgs.some((m) => m.role === 'assistant' && m.status === 'done' && m.text.includes('after the restart'));
      });
    } finally {
      await again.close();
    }
  });
});
