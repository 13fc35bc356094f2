import { describe, expect, it } from 'vitest';
import { faultModeOf, healthSampleOf, diagResultOf } from '../../scripts/bench/soakFaults.ts';
import {
  figureOf,
  isFlat,
  judgeSoak,
  judgedWindow,
  lagContext,
  leastSquares,
  soakFigures,
  soakLimits,
  type SoakSample,
} from '../../scripts/bench/soakStats.ts';
import { healthSample } from '../../schemas/wire.ts';

const sample = (tS: number, over: Partial<SoakSample> = {}): SoakSample => ({
  tS,
  rssMiB: 300,
  heapUsedMiB: 120,
  lagP99Ms: 12,
  openFds: 1040,
  connected: 1000,
  queueDepth: 0,
  buffers: { timeline: 0, health_history: 0, commands_open: 0 },
  ...over,
});

/** A run of `minutes` sampled every 10 s, each sample shaped by `at`. */
const run = (minutes: number, at: (tS: number, i: number) => Partial<SoakSample>) =>
  Array.from({ length: (minutes * 60) / 10 + 1 }, (_, i) => sample(i * 10, at(i * 10, i)));

describe('leastSquares', () => {
  it('gives the slope of a straight line per hour, with no error', () => {
    const fit = leastSquares([0, 600, 1200, 1800].map((tS) => ({ tS, value: 100 + tS / 360 })));
    expect(fit?.slopePerHour).toBeCloseTo(10, 9);
    expect(fit?.stdErrPerHour).toBeCloseTo(0, 9);
    expect(fit?.points).toBe(4);
  });
  it('sees through symmetric noise around a flat line', () => {
    const fit = leastSquares(Array.from({ length: 100 }, (_, i) => ({ tS: i * 10, value: 200 + (i % 2 ? 30 : -30) })));
    expect(Math.abs(fit!.slopePerHour)).toBeLessThan(20);
    expect(fit!.stdErrPerHour).toBeGreaterThan(0);
  });
  it('has no answer without two distinct times', () => {
    expect(leastSquares([])).toBeNull();
    expect(leastSquares([{ tS: 5, value: 1 }])).toBeNull();
    expect(
      leastSquares([
        { tS: 5, value: 1 },
        { tS: 5, value: 9 },
      ]),
    ).toBeNull();
  });
});

describe('judgedWindow', () => {
  it('keeps the second half of the run: warm-up is left out', () => {
    const kept = judgedWindow(
      run(10, () => ({})),
      600,
    );
    expect(kept[0]!.tS).toBe(300);
    expect(kept.at(-1)!.tS).toBe(600);
  });
});

describe('soakFigures and judgeSoak', () => {
  const limits = soakLimits(1000);
  const sent = { sent: 500, lost: 0 };

  it('passes a fleet whose memory grew in warm-up and then stayed flat', () => {
    const samples = run(30, (tS) => ({ rssMiB: tS < 600 ? 200 + tS / 6 : 300 }));
    const f = soakFigures(samples, 1800);
    expect(f.rss.slopePerHour).toBeCloseTo(0, 6);
    expect(judgeSoak(f, limits, sent)).toEqual({
      rss: true,
      handles: true,
      lag: true,
      queue: true,
      buffers: { commands_open: true, health_history: true, timeline: true },
      commands: true,
    });
  });

  it('fails a leak of 12 MiB/h after warm-up', () => {
    const f = soakFigures(
      run(30, (tS) => ({ rssMiB: 300 + (12 * tS) / 3600 })),
      1800,
    );
    expect(f.rss.slopePerHour).toBeCloseTo(12, 6);
    expect(judgeSoak(f, limits, sent).rss).toBe(false);
  });

  it('does not judge the RSS slope of a window shorter than the minimum', () => {
    const f = soakFigures(
      run(3, (tS) => ({ rssMiB: 300 + tS })),
      180,
    );
    expect(f.judgedMinutes).toBeCloseTo(1.5, 6);
    expect(judgeSoak(f, limits, sent).rss).toBeNull();
  });

  it('judges a window of the minimum length even when its first sample came a little late', () => {
    const samples = run(20, (tS) => ({ rssMiB: 300 + (12 * tS) / 3600 })).map((x) => (x.tS === 600 ? { ...x, tS: 600.4 } : x));
    const f = soakFigures(samples, 1200);
    expect(f.judgedMinutes).toBe(limits.minJudgedMinutes);
    expect(judgeSoak(f, limits, sent).rss).toBe(false);
    expect(
      judgeSoak(
        soakFigures(
          run(19, () => ({})),
          1140,
        ),
        limits,
        sent,
      ).rss,
    ).toBeNull();
  });

  it('fails descriptors that climb and a buffer that never drains', () => {
    const f = soakFigures(
      run(20, (tS, i) => ({ openFds: 1040 + tS / 10, buffers: { timeline: i * 3, health_history: 0, commands_open: i % 2 } })),
      1200,
    );
    const v = judgeSoak(f, limits, sent);
    expect(f.handles.drift).toBeCloseTo(60, 6);
    expect(v.handles).toBe(false);
    expect(v.buffers).toEqual({ commands_open: true, health_history: true, timeline: false });
  });

  it('judges the worst 5 s lag window after warm-up, not before', () => {
    const early = soakFigures(
      run(10, (tS) => ({ lagP99Ms: tS < 300 ? 400 : 20 })),
      600,
    );
    expect(early.lagP99Ms).toBe(20);
    const late = soakFigures(
      run(10, (tS) => ({ lagP99Ms: tS === 500 ? 51 : 20 })),
      600,
    );
    expect(judgeSoak(late, limits, sent).lag).toBe(false);
  });

  it('says how busy the rest of the machine was around the slow windows', () => {
    const samples = run(10, (tS) => ({ lagP99Ms: tS === 400 || tS === 500 ? 90 : 20, otherCores: tS === 400 || tS === 500 ? 1.8 : 0.6 }));
    expect(lagContext(samples, 600, 50)).toEqual({ over: 2, of: 31, otherCoresOver: 1.8, otherCoresAll: 0.68 });
    expect(
      lagContext(
        run(10, () => ({})),
        600,
        50,
      ),
    ).toEqual({ over: 0, of: 31, otherCoresOver: null, otherCoresAll: null });
  });

  it('fails on a lost command, and when none was sent at all', () => {
    const f = soakFigures(
      run(10, () => ({})),
      600,
    );
    expect(judgeSoak(f, limits, { sent: 500, lost: 1 }).commands).toBe(false);
    expect(judgeSoak(f, limits, { sent: 0, lost: 0 }).commands).toBe(false);
  });

  it('calls a series without data neither flat nor not', () => {
    expect(isFlat(figureOf([]), 10)).toBeNull();
    const f = soakFigures(
      run(10, () => ({ openFds: null, queueDepth: null })),
      600,
    );
    expect(judgeSoak(f, limits, sent)).toMatchObject({ handles: null, queue: null });
  });
});

describe('soak fault modes', () => {
  it('makes a tenth of the fleet faulty, each mode in turn', () => {
    const modes = Array.from({ length: 300 }, (_, i) => faultModeOf(i, 0.1));
    expect(modes.filter((m) => m === 'none')).toHaveLength(270);
    for (const m of ['sensor', 'flap', 'garbage'] as const) expect(modes.filter((x) => x === m)).toHaveLength(10);
    expect(faultModeOf(0, 0)).toBe('none');
  });
  it('shows a sensor fault for two samples, then clears it for two, in samples the server accepts', () => {
    const battery = [0, 1, 2, 3, 4].map((seq) => healthSampleOf(seq, 60, 'battery', 1_700_000_000_000).battery?.level);
    expect(battery).toEqual([10, 10, 80, 80, 10]);
    for (const fault of ['battery', 'paper', 'reader', 'overheat', null] as const) {
      expect(healthSample.safeParse(healthSampleOf(0, 0, fault)).success).toBe(true);
    }
    expect(diagResultOf(['printer', 'network'], 'paper', 0)).toEqual({ printer: 'fail', network: 'pass', details: {} });
    expect(diagResultOf(['printer', 'network'], 'paper', 2)).toEqual({ printer: 'pass', network: 'pass', details: {} });
  });
});
