// Reconnect delays: exponential growth with "full jitter", so that a fleet that lost its broker
// at the same instant does not come back in the same second. The 30 s cap bounds how long a
// terminal stays away after a broker restart (about the outage plus 30 s) while spreading a
// fleet's reconnects over 30 s: 10,000 terminals arrive at ~330/s, 50,000 at ~1,700/s, both
// within what one broker accepts (bench/README.md, connect.perSec).
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2 };

/** Delay before reconnect attempt `attempt` (0-based): uniform in [0, min(max, initial·factorⁿ)]. */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.initialMs * opts.factor ** Math.max(0, attempt));
  return Math.round(random() * ceiling);
}
