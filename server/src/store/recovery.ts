/** Repairs what an unclean stop (crash, kill -9, power loss) left half-done. */
import type { StoreContext } from './context';
import type { Hydrate } from './hydrate';
import type { MessageRow } from './rows';
import type { RecoveryReport } from './types';

export const INTERRUPTED_TOOL_RESULT = 'interrupted by a gateway restart';

export function recoveryQueries({ db, now }: StoreContext, hydrate: Hydrate): { recover(): RecoveryReport } {
  const runningTurns = db.prepare<[number]>(
    "UPDATE messages SET status = 'interrupted', updated_at = ? WHERE role = 'user' AND status = 'running'",
  );
  const streaming = db.prepare<[number]>(
    "UPDATE messages SET status = 'interrupted', updated_at = ? WHERE status = 'streaming' AND role = 'assistant'",
  );
  const openToolCalls = db.prepare<[string, number]>(
    `UPDATE tool_calls SET status = 'error', result = ?, updated_at = ?
     WHERE status IN ('pending', 'running', 'awaiting_approval')`,
  );
  const reservations = db.prepare('DELETE FROM budget_reservations');
  // The small partial index, not a scan of every message ever sent.
  const queued = db.prepare<[], MessageRow>(
    "SELECT * FROM messages INDEXED BY messages_queued WHERE role = 'user' AND status = 'queued' ORDER BY seq",
  );

  // One transaction: a crash during recovery leaves the state as it was, and
  // the next start simply recovers again.
  const recover = db.transaction((): RecoveryReport => {
    const at = now();
    const interruptedTurns = runningTurns.run(at).changes;
    const interruptedMessages = streaming.run(at).changes;
    const interruptedToolCalls = openToolCalls.run(INTERRUPTED_TOOL_RESULT, at).changes;
    // A reservation lives only as long as the call that made it; after a crash none is in flight.
    const releasedReservations = reservations.run().changes;
    return { interruptedTurns, interruptedMessages, interruptedToolCalls, queued: hydrate(queued.all()), releasedReservations };
  });

  return { recover: () => recover.immediate() };
}
