// The health chart's line breaks where a terminal went silent (client/console/charts/silences.ts):
// a gap of more than three typical intervals gets a null so uPlot stops the line, regular or
// slightly uneven sampling does not.
import { describe, expect, it } from 'vitest';
import { breakAtSilences } from '../../client/console/charts/silences.ts';

const every = (ms: number, ...ts: number[]) => ts.map((t, i) => ({ t: t * ms, v: i }));

describe('breakAtSilences', () => {
  it('keeps evenly spaced samples as one line', () => {
    expect(breakAtSilences(every(1000, 0, 1, 2, 3, 4.5))).toEqual([
      [0, 1000, 2000, 3000, 4500],
      [0, 1, 2, 3, 4],
    ]);
  });

  it('puts a null just after the last sample before a silence longer than three intervals', () => {
    expect(breakAtSilences(every(1000, 0, 1, 2, 3, 10, 11))).toEqual([
      [0, 1000, 2000, 3000, 3001, 10_000, 11_000],
      [0, 1, 2, 3, null, 4, 5],
    ]);
  });

  it('leaves a silence of exactly three intervals drawn', () => {
    expect(breakAtSilences(every(1000, 0, 1, 2, 5))[1]).toEqual([0, 1, 2, 3]);
  });

  it('draws no break for one sample or none', () => {
    expect(breakAtSilences([])).toEqual([[], []]);
    expect(breakAtSilences([{ t: 5, v: 7 }])).toEqual([[5], [7]]);
  });
});
