/**
 * Test support (bundled and run by budget-kill.test.ts, never by the
 * gateway): one provider call through the budget gate against the local
 * Anthropic server given as argv[3], on the store argv[2]; the moment the
 * call's usage event reaches its consumer the process SIGKILLs itself.
 */
import { openStore } from '../store';
import { BudgetGate } from './budget-gate';
import { SILENT_LOGGER } from './logger';
import { createAnthropicProvider } from './providers';

const [path, url] = process.argv.slice(2);
const store = openStore({ path: path ?? '' });
const gate = new BudgetGate({ store, bootId: 'boot-kill', logger: SILENT_LOGGER });
const session = store.createSession({ name: 'kill' });
const model = { provider: 'anthropic' as const, model: 'claude-haiku-4-5' };
const provider = gate.guard(createAnthropicProvider({ apiKey: 'sk-test-key-123', baseURL: url ?? '' }), model, { sessionId: session.id, messageId: null, channel: 'webchat', tool: null });
const request = { model: model.model, system: '', messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'count me' }] }], tools: [], maxTokens: 256, signal: new AbortController().signal };
for await (const event of provider.stream(request)) {
  if (event.type === 'usage') process.kill(process.pid, 'SIGKILL');
}
