// Reconnect delays: the agent's strategy in the one table of retry strategies
// (schemas/retry.ts, `agentReconnect`: exponential with full jitter, capped at 30 s; the table
// says why). Its shape stays tunable here so tests and the simulator can reconnect faster.
import { retryDelay, retryStrategies, type RetryStrategy } from '../schemas/retry.ts';

type Exponential = Extract<RetryStrategy, { type: 'exponential' }>;

/** The tunable part of the reconnect strategy; jitter stays full so a fleet never reconnects in step. */
export type BackoffOptions = Pick<Exponential, 'initialMs' | 'maxMs' | 'factor'>;

const { initialMs, maxMs, factor } = retryStrategies.agentReconnect;
export const defaultBackoff: BackoffOptions = { initialMs, maxMs, factor };

/** Delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  return retryDelay({ ...retryStrategies.agentReconnect, ...opts }, attempt, random);
}
