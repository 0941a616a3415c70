/**
 * Risky tool calls waiting for the user's yes or no. A wait ends with the
 * answer, or with "no" when the turn is aborted, so nothing waits forever.
 */
import { AppError } from '@autoclaw/shared';

interface Pending {
  sessionId: string;
  resolve: (approved: boolean) => void;
}

export class Approvals {
  readonly #pending = new Map<string, Pending>();

  wait(toolCallId: string, sessionId: string, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => finish(false);
      const finish = (approved: boolean) => {
        signal.removeEventListener('abort', onAbort);
        this.#pending.delete(toolCallId);
        resolve(approved);
      };
      this.#pending.set(toolCallId, { sessionId, resolve: finish });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Answers a waiting call; throws NOT_FOUND when none waits under that id. */
  answer(toolCallId: string, approved: boolean): { sessionId: string } {
    const pending = this.#pending.get(toolCallId);
    if (!pending) throw new AppError('NOT_FOUND', `tool call ${toolCallId} is not waiting for approval`);
    pending.resolve(approved);
    return { sessionId: pending.sessionId };
  }

  /** The session a waiting call belongs to; throws NOT_FOUND when none waits under that id. */
  sessionOf(toolCallId: string): { sessionId: string } {
    const pending = this.#pending.get(toolCallId);
    if (!pending) throw new AppError('NOT_FOUND', `tool call ${toolCallId} is not waiting for approval`);
    return { sessionId: pending.sessionId };
  }

  has(toolCallId: string): boolean {
    return this.#pending.has(toolCallId);
  }

  get size(): number {
    return this.#pending.size;
  }
}
