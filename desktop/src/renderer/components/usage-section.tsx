import { formatMicros } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTokens } from '../lib/format';
import { useUsageSummary } from '../hooks/use-settings';
import { useUi } from '../state/services';

export function UsageSection() {
  const usage = useUsageSummary();
  const openBudget = useUi((s) => s.openBudget);
  return (
    <section className="settings-section" aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      {usage.isPending && <p className="muted">Loading usage…</p>}
      {usage.isError && (
        <p className="notice error" role="alert">
          Could not load usage: {describeError(usage.error).message}
        </p>
      )}
      {usage.isSuccess && usage.data.calls === 0 && <p className="empty">No model calls yet.</p>}
      {usage.isSuccess && usage.data.calls > 0 && (
        <dl className="usage-grid">
          <dt>Model calls</dt>
          <dd>{formatTokens(usage.data.calls)}</dd>
          <dt>Input tokens</dt>
          <dd>{formatTokens(usage.data.inputTokens)}</dd>
          <dt>Output tokens</dt>
          <dd>{formatTokens(usage.data.outputTokens)}</dd>
          <dt>Cache read / write</dt>
          <dd>
            {formatTokens(usage.data.cacheReadTokens)} / {formatTokens(usage.data.cacheWriteTokens)}
          </dd>
          <dt>Cost</dt>
          <dd>
            {formatMicros(usage.data.costMicros)}
            {usage.data.unpricedCalls > 0 && <span className="muted"> + {usage.data.unpricedCalls} unpriced calls</span>}
          </dd>
        </dl>
      )}
      <p className="hint">
        Spend per day, by model and conversation, and the budget caps are on the Costs page.{' '}
        <button type="button" onClick={openBudget}>
          Open Costs
        </button>
      </p>
    </section>
  );
}
