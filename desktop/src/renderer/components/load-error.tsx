import { describeError } from '../lib/client-error';

/** A query that failed: what could not be loaded, why, and a way to try again. */
export function LoadError({ what, error, retry }: { what: string; error: unknown; retry: () => unknown }) {
  return (
    <div className="notice error" role="alert">
      <p>
        Could not load {what}: {describeError(error).message}
      </p>
      <button type="button" onClick={() => void retry()}>
        Try again
      </button>
    </div>
  );
}
