import { describe, expect, it } from 'vitest';
import { newBucket, takeToken, type RateLimit } from '../../server/broker/rateLimiter.ts';
import { seededRandom } from '../../agent/random.ts';

/** A message at each [time in ms, whether it may pass], in turn, against a bucket made full at the first time. */
type Takes = [atMs: number, passes: boolean][];

describe('token bucket', () => {
  it.each<[string, RateLimit, Takes]>([
    [
      'starts full: exactly `burst` messages pass at one instant, then it refuses',
      { perSecond: 4, burst: 5 },
      [[1000, true], [1000, true], [1000, true], [1000, true], [1000, true], [1000, false], [1000, false], [1000, false]],
    ],
    [
      // 4/s: a token per 250 ms; half a token at 125 ms is not enough; 500 ms later, two more.
      'refills at perSecond with the injected clock',
      { perSecond: 4, burst: 2 },
      [[0, true], [0, true], [0, false], [125, false], [250, true], [250, false], [750, true], [750, true], [750, false]],
    ],
    [
      'handles fractional rates (one message every two seconds)',
      { perSecond: 0.5, burst: 1 },
      [[0, true], [1000, false], [2000, true], [3999, false], [4000, true]],
    ],
  ])('%s', (_name, limit, takes) => {
    const b = newBucket(limit, takes[0]![0]);
    expect(takes.map(([atMs]) => takeToken(b, limit, atMs))).toEqual(takes.map(([, passes]) => passes));
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
