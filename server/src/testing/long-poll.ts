/**
 * Long polls in the wire servers: a request is held until there is news,
 * its timeout passes, the client goes away, or the server closes. While the
 * server is stalled a request is held with no timeout (a silent server with
 * the socket open) and answered once it speaks again.
 */
import type { ServerResponse } from 'node:http';

export interface LongPolls {
  /** Holds `res` until `hasNews()`, the timeout, a hang-up, or close; resolves false when there is no one to answer. */
  hold(res: ServerResponse, timeoutMs: number, hasNews: () => boolean): Promise<boolean>;
  /** Something changed: held requests look again. */
  wake(): void;
  stall(on: boolean): void;
  readonly stalled: boolean;
  /** Requests held right now. */
  readonly held: number;
  close(): void;
}

export function createLongPolls(): LongPolls {
  const checks = new Set<() => void>();
  let stalled = false;
  let closed = false;
  const wake = () => {
    for (const check of [...checks]) check();
  };
  return {
    hold(res, timeoutMs, hasNews) {
      return new Promise<boolean>((resolve) => {
        const timer = stalled ? null : setTimeout(done, timeoutMs);
        function done() {
          if (timer) clearTimeout(timer);
          checks.delete(check);
          res.off('close', done);
          resolve(!res.destroyed && !closed);
        }
        function check() {
          if (closed || (!stalled && (timer === null || hasNews()))) done();
        }
        checks.add(check);
        res.once('close', done);
      });
    },
    wake,
    stall(on) {
      stalled = on;
      wake();
    },
    get stalled() {
      return stalled;
    },
    get held() {
      return checks.size;
    },
    close() {
      closed = true;
      wake();
    },
  };
}
