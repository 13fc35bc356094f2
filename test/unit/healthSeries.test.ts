// The device page's health samples (client/console/charts/healthSeries.ts): the period drawn fits
// samples that cover less than half of the chosen range, live samples follow the history without
// duplicates and slide the period on.
import { describe, expect, it } from 'vitest';
import { appendLive, chartWindow, spanText, withPendingLive, type ChartSample } from '../../client/console/charts/healthSeries.ts';
import type { HealthPoint } from '../../server/telemetry/healthPoint.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-12-04T12:00:00.000Z');
const point = (t: number, battery = 50): HealthPoint => ({
  ts: new Date(t).toISOString(),
  battery,
  charging: false,
  temperatureC: 30,
  rssi: -60,
  signalType: 'wifi',
  storageFreePct: null,
});

describe('chartWindow', () => {
  it('keeps the whole range when the samples cover at least half of it', () => {
    expect(chartWindow(24 * HOUR, T0, T0 - 12 * HOUR)).toEqual({ from: T0 - 24 * HOUR, to: T0, fitted: false });
    expect(chartWindow(24 * HOUR, T0, undefined)).toEqual({ from: T0 - 24 * HOUR, to: T0, fitted: false });
  });

  it('starts 10 % before the first sample of a short run, never narrower than 10 minutes', () => {
    expect(chartWindow(24 * HOUR, T0, T0 - 2 * HOUR)).toEqual({ from: T0 - 2.2 * HOUR, to: T0, fitted: true });
    expect(chartWindow(24 * HOUR, T0, T0 - 4 * MIN)).toEqual({ from: T0 - 10 * MIN, to: T0, fitted: true });
  });

  it('says the span in minutes, then hours', () => {
    expect(spanText(10 * MIN)).toBe('10 minutes');
    expect(spanText(20 * 1000)).toBe('1 minutes');
    expect(spanText(5 * HOUR)).toBe('5 hours');
  });
});

describe('live samples', () => {
  it('keeps only the live samples newer than the history loaded', () => {
    const history = [point(T0 - 2 * MIN), point(T0 - MIN)];
    const shown: ChartSample[] = [{ ...point(T0 - MIN), live: true }, { ...point(T0), live: true }, point(T0 + MIN)];
    expect(withPendingLive(history, shown).map((p) => [p.ts, p.live ?? false])).toEqual([
      [history[0]!.ts, false],
      [history[1]!.ts, false],
      [new Date(T0).toISOString(), true],
    ]);
  });

  it('appends a newer sample, refuses one already shown or older, and slides the period', () => {
    const samples: ChartSample[] = [point(T0 - 5 * HOUR), point(T0 - HOUR)];
    expect(appendLive(samples, point(T0 - HOUR), 6 * HOUR, T0, 10)).toBeNull();
    expect(appendLive(samples, point(T0 - 2 * HOUR), 6 * HOUR, T0, 10)).toBeNull();
    expect(appendLive(samples, { ...point(T0), ts: 'not a time' }, 6 * HOUR, T0, 10)).toBeNull();
    expect(appendLive(samples, point(T0, 42), 6 * HOUR, T0 + 2 * HOUR, 10)).toBe(T0 + 2 * HOUR);
    // The sample five hours old slid out of the six hours ending two hours from now.
    expect(samples.map((p) => [Date.parse(p.ts), p.battery, p.live ?? false])).toEqual([
      [T0 - HOUR, 50, false],
      [T0, 42, true],
    ]);
  });

  it('ends the period at the sample when the terminal is ahead of the page, and keeps the newest few', () => {
    const samples: ChartSample[] = [point(T0 - 3 * MIN), point(T0 - 2 * MIN), point(T0 - MIN)];
    expect(appendLive(samples, point(T0 + MIN), HOUR, T0, 2)).toBe(T0 + MIN);
    expect(samples.map((p) => Date.parse(p.ts))).toEqual([T0 - MIN, T0 + MIN]);
  });
});
