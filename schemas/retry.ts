// One table of retry strategies, after BullMQ's backoffs.ts: every wait before trying again in
// posfleet (agent reconnects, command delivery jobs, campaign retries and deferrals, webhooks) is
// one of these shapes, so "how long until the next try" is answered in one place for agent and
// server alike. Pure: no timers, the caller decides when to wait.

export type RetryStrategy =
  /** The same pause every time. */
  | { type: 'fixed'; delayMs: number }
  /**
   * initialMs · factorⁿ before retry n (0-based), capped at maxMs. `full` jitter draws uniformly
   * in [0, that], so a fleet that failed at the same instant does not retry in the same second.
   */
  | { type: 'exponential'; initialMs: number; factor: number; maxMs: number; jitter: 'none' | 'full' };

/** Delay before retry `retry` (0-based: 0 is the wait after the first failure). */
export function retryDelay(strategy: RetryStrategy, retry: number, random: () => number = Math.random): number {
  switch (strategy.type) {
    case 'fixed':
      return strategy.delayMs;
    case 'exponential': {
      const ceiling = Math.min(strategy.maxMs, strategy.initialMs * strategy.factor ** Math.max(0, retry));
      return strategy.jitter === 'full' ? Math.round(random() * ceiling) : ceiling;
    }
  }
}

/** The strategies posfleet uses, by what they retry. Those with a configurable base take it. */
export const retryStrategies = {
  /**
   * Agent reconnects. The 30 s cap bounds how long a terminal stays away after a broker restart
   * (about the outage plus 30 s) while spreading a fleet's reconnects over 30 s: 10,000 terminals
   * arrive at ~330/s, 50,000 at ~1,700/s (bench/README.md, connect.perSec).
   */
  agentReconnect: { type: 'exponential', initialMs: 1000, factor: 2, maxMs: 30_000, jitter: 'full' },
  /** A delivery job whose publish failed (BullMQ attempts): 0.5 s, 1 s, 2 s, 4 s. */
  commandDelivery: { type: 'exponential', initialMs: 500, factor: 2, maxMs: 30_000, jitter: 'none' },
  /** A campaign device after a transient failure: base, 2·base, 4·base… up to 30 minutes. */
  campaignRetry: (baseMs: number): RetryStrategy => ({ type: 'exponential', initialMs: baseMs, factor: 2, maxMs: 30 * 60_000, jitter: 'none' }),
  /** A campaign device that deferred (busy, outside its window): one pause, not counted as a failure. */
  campaignDeferral: (baseMs: number): RetryStrategy => ({ type: 'fixed', delayMs: baseMs }),
  /** Fault webhook deliveries (BullMQ attempts). */
  webhook: (baseMs: number): RetryStrategy => ({ type: 'exponential', initialMs: baseMs, factor: 2, maxMs: 10 * 60_000, jitter: 'none' }),
} as const satisfies Record<string, RetryStrategy | ((baseMs: number) => RetryStrategy)>;
