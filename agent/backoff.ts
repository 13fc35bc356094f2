// Reconnect delays: exponential growth with "full jitter", so that a fleet that lost its broker
// at the same instant does not come back in the same second.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2 };

/** Delay before reconnect attempt `attempt` (0-based): uniform in [0, min(max, initial·factorⁿ)]. */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.initialMs * opts.factor ** Math.max(0, attempt));
  return Math.round(random() * ceiling);
}
