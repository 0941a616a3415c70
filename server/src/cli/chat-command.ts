/**
 * `autoclaw chat`: one message to the gateway running on a data directory,
 * as the local operator device; streams the answer to stdout and exits 0
 * when the turn is done (1 when it failed, was interrupted or cancelled).
 */
import { randomUUID } from 'node:crypto';
import { LIMITS } from '@autoclaw/shared';
import { parseDataDir, UsageError } from '../gateway';
import { loadOperatorKey } from '../security';
import { parseFlags } from './args';
import { connectRunning } from './running-gateway';
import type { CliIO } from './io';
import { TurnTracker } from './turn-tracker';

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(args, {
    data: { type: 'string' },
    session: { type: 'string' },
    message: { type: 'string', short: 'm' },
  });
  const dataDir = parseDataDir(values.data);
  const text = values.message;
  if (text === undefined || text.trim() === '') throw new UsageError('-m TEXT is required');
  if (text.length > LIMITS.messageChars) throw new UsageError(`the message is longer than ${LIMITS.messageChars} characters`);
  const name = (values.session ?? 'main').trim();
  if (name === '' || name.length > LIMITS.sessionNameChars) throw new UsageError(`--session must be 1–${LIMITS.sessionNameChars} characters`);

  const conn = connectRunning(dataDir, loadOperatorKey);
  const race = <T>(p: Promise<T>): Promise<T> => conn.call(p);
  try {
    const { client } = conn;
    const session = await race(client.sessions.ensure.mutate({ name }));
    const tracker = new TurnTracker(
      (t) => io.stdout.write(t),
      (line) => io.stderr.write(`autoclaw chat: ${line}\n`),
    );
    let streamFailed: (err: unknown) => void = () => {};
    const streamError = new Promise<never>((_, reject) => {
      streamFailed = reject;
    });
    streamError.catch(() => {});
    const sub = client.chat.events.subscribe(
      { sessionId: session.id },
      {
        onData: (envelope) => tracker.handle(envelope.data),
        onError: (err) => streamFailed(err),
      },
    );
    try {
      // Sent with the subscription, not after its first event: the stream starts
      // with a snapshot taken together with its listener, so whichever the gateway
      // handles first, no event of the turn is missed (the tracker reads a
      // snapshot that holds the turn already).
      const sent = await race(client.chat.send.mutate({ sessionId: session.id, clientId: randomUUID(), text }));
      tracker.setTurn(sent.message);
      const outcome = await race(Promise.race([tracker.outcome, streamError]));
      if (outcome.status === 'done') return 0;
      const why = outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : 'no reason given';
      io.stderr.write(`autoclaw chat: the turn ${outcome.status} (${why})\n`);
      return 1;
    } finally {
      sub.unsubscribe();
    }
  } finally {
    await conn.close();
  }
}
