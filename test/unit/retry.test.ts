import { describe, expect, it } from 'vitest';
import { retryDelay, retryStrategies } from '../../schemas/retry.ts';

describe('retry strategies', () => {
  it('fixed waits the same every time', () => {
    const s = retryStrategies.campaignDeferral(30_000);
    expect([0, 1, 5].map((n) => retryDelay(s, n))).toEqual([30_000, 30_000, 30_000]);
  });

  it('exponential without jitter doubles from the base and stops at the cap', () => {
    const s = retryStrategies.campaignRetry(30_000);
    expect([0, 1, 2, 3].map((n) => retryDelay(s, n))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelay(s, 20)).toBe(30 * 60_000);
    expect(retryDelay(s, -3)).toBe(30_000);
  });

  it('full jitter draws in [0, ceiling]', () => {
    const s = retryStrategies.agentReconnect;
    expect(retryDelay(s, 3, () => 0)).toBe(0);
    expect(retryDelay(s, 3, () => 1)).toBe(8000);
    expect(retryDelay(s, 3, () => 0.5)).toBe(4000);
    expect(retryDelay(s, 10, () => 1)).toBe(30_000);
  });
});
