// Where a health line breaks: a terminal silent for more than three of its typical intervals
// (the median gap between samples) gets a gap in its line, not a straight segment across the silence.
import type uPlot from 'uplot';

export interface MetricPoint {
  /** ms since the epoch */
  t: number;
  v: number | null | undefined;
}

/** The values as uPlot's [times, values], with a null just after each silence so the line stops there. */
export function breakAtSilences(values: readonly { t: number; v: number }[]): uPlot.AlignedData {
  const gaps: number[] = [];
  for (let i = 1; i < values.length; i++) gaps.push((values[i]?.t ?? 0) - (values[i - 1]?.t ?? 0));
  const typical = gaps.length ? (gaps.slice().sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0) : 0;
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  values.forEach((p, i) => {
    const prev = values[i - 1];
    if (prev && typical && p.t - prev.t > typical * 3) {
      xs.push(prev.t + 1);
      ys.push(null);
    }
    xs.push(p.t);
    ys.push(p.v);
  });
  return [xs, ys];
}
