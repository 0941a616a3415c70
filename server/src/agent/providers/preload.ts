/**
 * Loads the Anthropic SDK (the default provider's) ahead of a first turn: a
 * warm standby gateway does it while nobody waits, so the first answer after
 * a wake does not pay for it. A gateway started directly never calls this
 * (its start-up stays free of SDKs; see lazy-load.test.ts).
 */
export async function preloadProviders(): Promise<void> {
  await import('@anthropic-ai/sdk');
}
