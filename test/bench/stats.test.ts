import { describe, expect, it } from 'vitest';
import { judgeStep, ladder, lastAttempts, nextProbe, percentile, splitProportional, summarize, sustainedRate, type StepOutcome } from '../../scripts/bench/stats.ts';

const strict = { maxP99Ms: 250, requireServerCount: true };
const raw = { maxP99Ms: 250, requireServerCount: false };
const ok = (rate: number, p99Ms = 10): StepOutcome => ({ rate, sent: rate * 10, acked: rate * 10, serverCounted: rate * 10, p99Ms });

describe('percentile', () => {
  it('uses nearest rank, so it only reports observed values', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([3, 1, 2], 0)).toBe(1);
  });
  it('sorts numerically, not as strings', () => {
    expect(percentile([100, 9, 20], 100)).toBe(100);
    expect(percentile([100, 9, 20], 34)).toBe(20);
  });
  it('is NaN for no values', () => {
    expect(percentile([], 99)).toBeNaN();
    expect(summarize([]).p99Ms).toBeNaN();
  });
  it('summarize agrees with percentile', () => {
    const v = [5, 1, 4, 2, 3, 10, 8, 7, 6, 9];
    const s = summarize(v);
    expect(s).toEqual({ count: 10, p50Ms: percentile(v, 50), p90Ms: percentile(v, 90), p99Ms: percentile(v, 99), maxMs: 10 });
  });
});

describe('judgeStep', () => {
  it('passes a clean step', () => {
    expect(judgeStep(ok(2000), strict)).toEqual({ rate: 2000, passed: true, reasons: [] });
  });
  it('fails on a missing PUBACK', () => {
    const v = judgeStep({ ...ok(2000), acked: 19_999 }, strict);
    expect(v.passed).toBe(false);
    expect(v.reasons[0]).toMatch(/1 of 20000 PUBACKs missing/);
  });
  it('fails when the server counted fewer or more than sent', () => {
    expect(judgeStep({ ...ok(2000), serverCounted: 19_990 }, strict).passed).toBe(false);
    expect(judgeStep({ ...ok(2000), serverCounted: 20_001 }, strict).passed).toBe(false);
    expect(judgeStep({ ...ok(2000), serverCounted: null }, strict).passed).toBe(false);
  });
  it('ignores the server count where the broker keeps none', () => {
    expect(judgeStep({ ...ok(2000), serverCounted: null }, raw).passed).toBe(true);
  });
  it('fails on p99 over the limit, and on NaN p99 (no PUBACK at all)', () => {
    expect(judgeStep(ok(2000, 250), strict).passed).toBe(true);
    expect(judgeStep(ok(2000, 250.01), strict).passed).toBe(false);
    expect(judgeStep({ ...ok(2000, Number.NaN), acked: 0 }, raw).passed).toBe(false);
  });
});

describe('sustainedRate', () => {
  it('is the last passing step before the first failure', () => {
    const steps = [ok(2000), ok(4000), ok(6000, 300), ok(8000)];
    expect(sustainedRate(steps, strict)).toEqual({ msgsPerSec: 4000, p99Ms: 10, index: 1, capped: false });
  });
  it('is 0 when the first step fails', () => {
    expect(sustainedRate([ok(2000, 900)], strict).msgsPerSec).toBe(0);
    expect(sustainedRate([], strict)).toEqual({ msgsPerSec: 0, p99Ms: null, index: -1, capped: false });
  });
  it('says capped when every step passed', () => {
    expect(sustainedRate([ok(2000), ok(4000)], strict)).toMatchObject({ msgsPerSec: 4000, capped: true });
  });
});

describe('ladder and splitProportional', () => {
  it('builds the rate ladder inclusively', () => {
    expect(ladder(2000, 2000, 14_000)).toEqual([2000, 4000, 6000, 8000, 10_000, 12_000, 14_000]);
    expect(ladder(5, 10, 1)).toEqual([]);
  });
  it('splits exactly, proportionally to weights', () => {
    expect(splitProportional(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(splitProportional(100_000, [2500, 2500, 2500, 2500])).toEqual([25_000, 25_000, 25_000, 25_000]);
    const parts = splitProportional(20_001, [150, 150]);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(20_001);
    expect(splitProportional(5, [0, 0])).toEqual([0, 0]);
  });
});

describe('lastAttempts', () => {
  it('keeps the confirmation run of a rung, in ladder order', () => {
    const steps = [ok(2000), { ...ok(4000, 400) }, ok(4000, 20), ok(6000, 300), ok(6000, 280)];
    const rungs = lastAttempts(steps);
    expect(rungs.map((s) => [s.rate, s.p99Ms])).toEqual([[2000, 10], [4000, 20], [6000, 280]]);
    expect(sustainedRate(rungs, strict)).toMatchObject({ msgsPerSec: 4000, p99Ms: 20 });
  });
});

describe('nextProbe', () => {
  it('halves the gap between the last pass and the first failure, in whole resolutions', () => {
    expect(nextProbe(6000, 8000, 500)).toBe(7000);
    expect(nextProbe(7000, 8000, 500)).toBe(7500);
    expect(nextProbe(6000, 7000, 500)).toBe(6500);
  });
  it('stops once the gap is one resolution or less', () => {
    expect(nextProbe(7500, 8000, 500)).toBeNull();
    expect(nextProbe(6000, 6200, 500)).toBeNull();
  });
  it('bisects to the resolution in log2(gap / resolution) probes', () => {
    const limit = 7300; // a broker that passes every rate up to here
    let pass = 6000;
    let fail = 8000;
    const probes: number[] = [];
    for (let p = nextProbe(pass, fail, 500); p !== null; p = nextProbe(pass, fail, 500)) {
      probes.push(p);
      if (p <= limit) pass = p;
      else fail = p;
    }
    expect(probes).toEqual([7000, 7500]);
    expect(pass).toBe(7000);
  });
  it('never proposes a rate outside the open interval, even for odd gaps', () => {
    expect(nextProbe(2000, 2600, 500)).toBe(2500);
    expect(nextProbe(2000, 2400, 500)).toBeNull();
    expect(nextProbe(2000, 3100, 500)).toBe(2500);
    expect(nextProbe(0, 2000, 0)).toBeNull();
  });
});
