// BullMQ jobs retried by the table of strategies wait exactly what BullMQ's own exponential
// backoff waited before (command delivery from 500 ms, webhooks from their base). That the
// workers pick the custom strategy up is shown by the retried webhook of faultsEndToEnd.
import { Backoffs } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { retryStrategies, type RetryStrategy } from '../../schemas/retry.ts';
import { backoffStrategyOf } from '../../server/jobs/retryBackoff.ts';

const bullmqExponential = (delay: number, attemptsMade: number) => Backoffs.builtinStrategies.exponential!(delay)(attemptsMade);
const fromTable = (strategy: RetryStrategy, attemptsMade: number) => backoffStrategyOf(strategy)(attemptsMade);

describe('BullMQ custom backoff from the retry table', () => {
  it('command delivery waits 0.5 s, 1 s, 2 s, 4 s over its 5 attempts, as the exponential backoff did', () => {
    const waits = [1, 2, 3, 4].map((n) => fromTable(retryStrategies.commandDelivery, n));
    expect(waits).toEqual([500, 1000, 2000, 4000]);
    expect(waits).toEqual([1, 2, 3, 4].map((n) => bullmqExponential(500, n)));
  });

  it('webhooks wait what BullMQ waited from the same base over their 10 attempts', () => {
    const attempts = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    for (const base of [2000, 50]) {
      expect(attempts.map((n) => fromTable(retryStrategies.webhook(base), n))).toEqual(attempts.map((n) => bullmqExponential(base, n)));
    }
    expect(fromTable(retryStrategies.webhook(2000), 9)).toBe(512_000);
  });
});
