import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff } from '../../agent/backoff.ts';
import { seededRandom } from '../../agent/random.ts';

describe('backoffDelay', () => {
  it('stays within [0, min(max, initial·factorⁿ)]', () => {
    const rnd = seededRandom(1);
    for (let attempt = 0; attempt < 20; attempt++) {
      const ceiling = Math.min(defaultBackoff.maxMs, defaultBackoff.initialMs * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, defaultBackoff, rnd);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('grows exponentially until the cap', () => {
    const top = (a: number) => backoffDelay(a, defaultBackoff, () => 1);
    expect([0, 1, 2, 3, 4].map(top)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(top(5)).toBe(30_000);
    expect(top(50)).toBe(30_000);
    expect(backoffDelay(-3, defaultBackoff, () => 1)).toBe(1000);
  });

  it('spreads a fleet reconnecting at the same attempt across the window', () => {
    const rnd = seededRandom(42);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(4, defaultBackoff, rnd));
    const ceiling = 16_000;
    // Full jitter: roughly uniform, so every tenth of the window gets some of the fleet.
    const buckets = new Array(10).fill(0);
    for (const d of delays) buckets[Math.min(9, Math.floor((d / ceiling) * 10))]++;
    for (const b of buckets) expect(b).toBeGreaterThan(120);
    expect(new Set(delays).size).toBeGreaterThan(1500);
  });
});
