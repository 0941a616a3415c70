/** One health probe of a gateway: /healthz must name the instance, /readyz must answer 200. */
export interface ProbeResult {
  ok: boolean;
  /** Why it failed, for the instance's events. */
  reason?: string;
}

export async function probeGateway(url: string, instanceId: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!health.ok) return { ok: false, reason: `/healthz answered ${health.status}` };
    const body = (await health.json()) as { instanceId?: unknown };
    if (body.instanceId !== instanceId) return { ok: false, reason: 'another process answers on the instance\'s port' };
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    await ready.body?.cancel();
    if (!ready.ok) return { ok: false, reason: `/readyz answered ${ready.status}` };
    return { ok: true };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { ok: false, reason: timedOut ? `no answer within ${timeoutMs} ms` : 'connection refused or reset' };
  }
}
