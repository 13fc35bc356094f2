import { describe, expect, it } from 'vitest';
import { newBucket, takeToken, type RateLimit } from '../../server/broker/rateLimiter.ts';
import { seededRandom } from '../../agent/random.ts';

describe('token bucket', () => {
  it('starts full: exactly `burst` messages pass at one instant, then it refuses', () => {
    const limit: RateLimit = { perSecond: 4, burst: 5 };
    const b = newBucket(limit, 1000);
    const results = Array.from({ length: 8 }, () => takeToken(b, limit, 1000));
    expect(results).toEqual([true, true, true, true, true, false, false, false]);
  });

  it('refills at perSecond with the injected clock', () => {
    const limit: RateLimit = { perSecond: 4, burst: 2 };
    const b = newBucket(limit, 0);
    expect(takeToken(b, limit, 0)).toBe(true);
    expect(takeToken(b, limit, 0)).toBe(true);
    expect(takeToken(b, limit, 0)).toBe(false);
    // 4/s: a token per 250 ms. Half a token at 125 ms is not enough.
    expect(takeToken(b, limit, 125)).toBe(false);
    expect(takeToken(b, limit, 250)).toBe(true);
    expect(takeToken(b, limit, 250)).toBe(false);
    // 500 ms later: two more.
    expect(takeToken(b, limit, 750)).toBe(true);
    expect(takeToken(b, limit, 750)).toBe(true);
    expect(takeToken(b, limit, 750)).toBe(false);
  });

  it('handles fractional rates (one message every two seconds)', () => {
    const limit: RateLimit = { perSecond: 0.5, burst: 1 };
    const b = newBucket(limit, 0);
    expect(takeToken(b, limit, 0)).toBe(true);
    expect(takeToken(b, limit, 1000)).toBe(false);
    expect(takeToken(b, limit, 2000)).toBe(true);
    expect(takeToken(b, limit, 3999)).toBe(false);
    expect(takeToken(b, limit, 4000)).toBe(true);
  });

  it('never holds more than `burst`, however long the device was quiet', () => {
    const limit: RateLimit = { perSecond: 10, burst: 3 };
    const b = newBucket(limit, 0);
    takeToken(b, limit, 0);
    let passed = 0;
    for (let i = 0; i < 10; i++) if (takeToken(b, limit, 3_600_000)) passed++;
    expect(passed).toBe(3);
    expect(b.tokens).toBeGreaterThanOrEqual(0);
    expect(b.tokens).toBeLessThan(1);
  });

  it('a clock that goes backwards adds nothing and never drives tokens negative', () => {
    const limit: RateLimit = { perSecond: 10, burst: 2 };
    const b = newBucket(limit, 10_000);
    expect(takeToken(b, limit, 10_000)).toBe(true);
    expect(takeToken(b, limit, 10_000)).toBe(true);
    expect(takeToken(b, limit, 5_000)).toBe(false);
    expect(b.tokens).toBe(0);
    expect(takeToken(b, limit, 5_000)).toBe(false);
    expect(b.tokens).toBeGreaterThanOrEqual(0);
  });

  it('counts refusals in a row and resets the count on the next accepted message', () => {
    const limit: RateLimit = { perSecond: 1, burst: 1 };
    const b = newBucket(limit, 0);
    expect(b.refusedInRow).toBe(0);
    expect(takeToken(b, limit, 0)).toBe(true);
    expect(b.refusedInRow).toBe(0);
    for (let i = 1; i <= 5; i++) {
      expect(takeToken(b, limit, 100 * i)).toBe(false);
      expect(b.refusedInRow).toBe(i);
    }
    expect(takeToken(b, limit, 1000)).toBe(true);
    expect(b.refusedInRow).toBe(0);
    expect(takeToken(b, limit, 1000)).toBe(false);
    expect(b.refusedInRow).toBe(1);
  });

  it('a flood keeps counting up so the broker can disconnect after N', () => {
    const limit: RateLimit = { perSecond: 20, burst: 100 };
    const b = newBucket(limit, 0);
    let t = 0;
    // 1000 msgs/s for 1 s against 20/s + 100 burst.
    let accepted = 0;
    let maxRun = 0;
    for (let i = 0; i < 1000; i++) {
      t += 1;
      if (takeToken(b, limit, t)) accepted++;
      maxRun = Math.max(maxRun, b.refusedInRow);
    }
    expect(accepted).toBeGreaterThanOrEqual(119);
    expect(accepted).toBeLessThanOrEqual(120);
    // A token every 50 ms: at most 49 refusals between two accepted messages.
    expect(maxRun).toBeGreaterThanOrEqual(45);
    expect(maxRun).toBeLessThanOrEqual(50);
  });

  it('never accepts more than burst + perSecond × elapsed (random monotonic clock)', () => {
    const rnd = seededRandom(7);
    for (let round = 0; round < 20; round++) {
      const limit: RateLimit = { perSecond: 1 + Math.floor(rnd() * 50), burst: 1 + Math.floor(rnd() * 20) };
      const start = 1_000_000;
      const b = newBucket(limit, start);
      let t = start;
      let accepted = 0;
      for (let i = 0; i < 2000; i++) {
        t += Math.floor(rnd() * 40);
        if (takeToken(b, limit, t)) accepted++;
        const ceiling = limit.burst + (limit.perSecond * (t - start)) / 1000 + 1e-9;
        if (accepted > ceiling || b.tokens < 0 || b.tokens > limit.burst) {
          throw new Error(`round ${round} msg ${i}: accepted ${accepted} > ${ceiling} or tokens ${b.tokens} out of [0, ${limit.burst}]`);
        }
      }
      expect(accepted).toBeGreaterThan(0);
    }
  });

  it('lets a device sending exactly at its rate through indefinitely', () => {
    const limit: RateLimit = { perSecond: 4, burst: 1 };
    const b = newBucket(limit, 0);
    for (let i = 0; i < 1000; i++) expect(takeToken(b, limit, i * 250)).toBe(true);
  });
});
