// BullMQ retries by one of the strategies of schemas/retry.ts: a job asks for BullMQ's custom
// backoff (`backoff: customBackoff`) and its queue's worker computes the wait
// (`settings: { backoffStrategy: backoffStrategyOf(strategy) }`, see BullMQ's backoffs.ts).
import type { BackoffOptions, BackoffStrategy } from 'bullmq';
import { retryDelay, type RetryStrategy } from '../../schemas/retry.ts';

export const customBackoff: BackoffOptions = { type: 'custom' };

/** BullMQ passes the attempts made so far: 1 after the first failure, which is retry 0. */
export const backoffStrategyOf =
  (strategy: RetryStrategy): BackoffStrategy =>
  (attemptsMade) =>
    retryDelay(strategy, attemptsMade - 1);
