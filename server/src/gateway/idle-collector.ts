/**
 * Collects garbage once the gateway has gone quiet. V8 runs a major GC only
 * when the old generation reaches a limit that grows with use, so a gateway
 * that served a burst of turns would keep tens of MiB of dead objects
 * resident until the next burst. An idle gateway is a cost paid per user:
 * one full collection a second after the last turn ends keeps it small, and
 * costs a few milliseconds when nobody waits.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleCollector {
  /** Called when the last running turn ended: collect after `delayMs` of quiet. */
  quiet(): void;
  stop(): void;
}

/** The engine's `gc` function (exposed on demand; no command-line flag needed). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export function createIdleCollector(opts: { delayMs?: number; collect?: () => void } = {}): IdleCollector {
  const delayMs = opts.delayMs ?? 1_000;
  let collect = opts.collect;
  let timer: NodeJS.Timeout | null = null;
  return {
    quiet() {
      collect ??= exposeGc();
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        collect?.();
      }, delayMs);
      timer.unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
