/**
 * How long each step of a gateway's start took (milliseconds, monotonic
 * clock), for the "gateway listening" log line: a slow wake shows where its
 * time went without a profiler.
 */
export interface StartPhases {
  /** Ends the step named `name` (it began where the previous one ended). */
  mark(name: string): void;
  /** Every step's duration and `total`, rounded to 0.1 ms. */
  done(): Record<string, number>;
}

export function startPhases(clock: () => number = () => performance.now()): StartPhases {
  const began = clock();
  let last = began;
  const steps: Record<string, number> = {};
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    mark(name) {
      const at = clock();
      steps[name] = round(at - last);
      last = at;
    },
    done: () => ({ ...steps, total: round(last - began) }),
  };
}
