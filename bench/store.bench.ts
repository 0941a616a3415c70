// store.messages_per_s: 8 concurrent senders, each message acknowledged only
// after the commit that holds it. The gateway's send path uses the same
// group commit: messages that arrive in one event-loop turn share a commit.
// synchronous=NORMAL in WAL mode: a commit survives kill -9 of the process
// (the WAL is written before the ack; only power loss can drop the newest
// commits) — the store's crash test checks that every ack survives SIGKILL.
import { join } from 'node:path';
import { createGroupCommit, openStore } from '../server/src/store/index';
import { round, tempDir, writeFigures } from './support';

const SENDERS = 8;
const PER_SENDER = 5_000;

const dir = tempDir('autoclaw-bench-store-');
const store = openStore({ path: join(dir.path, 'gateway.db') });
const session = store.createSession({ name: 'bench' });
const writer = createGroupCommit(store);

async function sender(k: number, count: number, offset: number): Promise<number> {
  let acked = 0;
  for (let i = 0; i < count; i += 1) {
    const { duplicate } = await writer.insertUserMessage({ sessionId: session.id, clientId: `bench-${offset}-${k}-${i}`, text: `message ${i} from sender ${k}` });
    if (!duplicate) acked += 1;
  }
  return acked;
}

// Warm-up (prepared statements, page cache), then the measured run.
await Promise.all(Array.from({ length: SENDERS }, (_, k) => sender(k, 200, 0)));
const started = performance.now();
const acked = (await Promise.all(Array.from({ length: SENDERS }, (_, k) => sender(k, PER_SENDER, 1)))).reduce((a, b) => a + b, 0);
const seconds = (performance.now() - started) / 1000;

// Single-message commits, one sender, for comparison.
const singleStarted = performance.now();
for (let i = 0; i < 5_000; i += 1) store.insertUserMessage({ sessionId: session.id, clientId: `single-${i}`, text: `message ${i}` });
const singleSeconds = (performance.now() - singleStarted) / 1000;

writer.close();
store.close();
dir.remove();
if (acked !== SENDERS * PER_SENDER) throw new Error(`only ${acked} messages acknowledged`);
writeFigures({
  'store.messages_per_s': Math.round(acked / seconds),
  'store.single_commit_messages_per_s': Math.round(5_000 / singleSeconds),
  'store.messages_per_s_senders': SENDERS,
  'store.bench_seconds': round(seconds, 3),
});
