// One health metric over time as a uPlot line chart, with what the canvas alone cannot say: a text
// summary (latest, lowest, highest) read by screen readers and shown under the plot, and the figure's
// `data-points` / `data-latest` for scripts and tests. The chart is made once and given new points
// as they arrive (history, then live samples), so the canvas is redrawn, not rebuilt.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './healthChart.css';
import { breakAtSilences, type MetricPoint } from './silences.ts';

export type { MetricPoint } from './silences.ts';

/** A range of values drawn behind the line (a battery near empty, a terminal running hot). */
export interface ValueBand {
  from: number;
  to: number;
  /** The custom property (from app.css) its colour is read from, so dark mode follows. */
  colorVar: string;
}

export interface HealthChartOptions {
  title: string;
  unit: string;
  /** Fixed value axis (battery 0..100); without it the axis fits the values with a margin. */
  domain?: readonly [number, number];
  bands?: readonly ValueBand[];
}

export interface HealthChart {
  figure: HTMLElement;
  /** Draws `points` over the period `from`..`to` (ms since the epoch). */
  show(points: readonly MetricPoint[], from: number, to: number): void;
  destroy(): void;
}

const PLOT_HEIGHT = 180;
const DEFAULT_WIDTH = 480;
const darkScheme = '(prefers-color-scheme: dark)';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function createHealthChart(options: HealthChartOptions): HealthChart {
  const { title, unit, domain, bands = [] } = options;
  const figure = el('figure', 'chart');
  figure.dataset.chart = title;
  figure.dataset.points = '0';
  const caption = el('figcaption', '');
  caption.append(el('span', 'chart-title', title));
  const plotBox = el('div', 'chart-plot');
  plotBox.setAttribute('role', 'img');
  const summary = el('p', 'chart-summary small');
  const empty = el('p', 'muted chart-empty', 'No samples in this period.');
  figure.append(caption, plotBox, summary, empty);

  let period: [number, number] = [0, 1];
  let plot: uPlot | null = null;
  // Colours come from the page's custom properties at each draw, so a switch to dark mode redraws right.
  const color = (name: string) => () => getComputedStyle(figure).getPropertyValue(name).trim() || 'currentColor';
  const fmt = (v: number) => `${Math.round(v * 10) / 10}${unit}`;

  const drawBands = (u: uPlot) => {
    const { left, width } = u.bbox;
    const [lo = 0, hi = 0] = [u.scales.y?.min, u.scales.y?.max];
    for (const band of bands) {
      const top = u.valToPos(Math.min(hi, band.to), 'y', true);
      const bottom = u.valToPos(Math.max(lo, band.from), 'y', true);
      if (bottom <= top) continue;
      u.ctx.fillStyle = color(band.colorVar)();
      u.ctx.fillRect(left, top, width, bottom - top);
    }
  };

  const axis = (values?: uPlot.Axis['values']): uPlot.Axis => ({
    stroke: color('--muted'),
    grid: { stroke: color('--border'), width: 1 },
    ticks: { stroke: color('--border'), width: 1 },
    font: '13px system-ui, sans-serif',
    ...(values ? { values } : {}),
  });

  const makePlot = (data: uPlot.AlignedData) =>
    new uPlot(
      {
        width: plotBox.clientWidth || DEFAULT_WIDTH,
        height: PLOT_HEIGHT,
        ms: 1,
        legend: { show: false },
        cursor: { y: false, points: { show: false }, drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => period },
          y: {
            range: (_u, min, max): uPlot.Range.MinMax => {
              if (domain) return [domain[0], domain[1]];
              const pad = (max - min) * 0.1 || Math.max(1, Math.abs(max) * 0.1);
              return [min - pad, max + pad];
            },
          },
        },
        axes: [axis(), axis((_u, splits) => splits.map((v) => `${Math.round(v * 1000) / 1000}`))],
        series: [
          {},
          {
            label: title,
            stroke: color('--accent'),
            width: 2,
            spanGaps: false,
            // The latest sample marked, as the old chart did.
            points: { show: true, size: 7, fill: color('--accent'), filter: (u) => [lastIndex(u)] },
          },
        ],
        hooks: { drawClear: [drawBands] },
      },
      data,
    );

  // The plot follows its box's width (the grid of charts reflows on a tablet); a detached box
  // measures 0 and is left alone.
  const resize = new ResizeObserver(() => {
    const width = plotBox.clientWidth;
    if (plot && width > 0 && width !== plot.width) plot.setSize({ width, height: PLOT_HEIGHT });
  });
  resize.observe(plotBox);
  const scheme = matchMedia(darkScheme);
  const redraw = () => plot?.redraw(false);
  scheme.addEventListener('change', redraw);

  return {
    figure,
    show(points, from, to) {
      period = [from, Math.max(to, from + 1)];
      const values = points.filter((p): p is { t: number; v: number } => typeof p.v === 'number');
      const last = values[values.length - 1];
      figure.dataset.points = String(values.length);
      plotBox.hidden = !last;
      summary.hidden = !last;
      empty.hidden = Boolean(last);
      if (!last) {
        delete figure.dataset.latest;
        return;
      }
      const vs = values.map((p) => p.v);
      const [minV, maxV] = [Math.min(...vs), Math.max(...vs)];
      figure.dataset.latest = String(last.v);
      summary.textContent = `Latest ${fmt(last.v)} · min ${fmt(minV)} · max ${fmt(maxV)}`;
      plotBox.setAttribute(
        'aria-label',
        `${title}: latest ${fmt(last.v)}, lowest ${fmt(minV)}, highest ${fmt(maxV)} over ${values.length} samples.`,
      );
      const data = breakAtSilences(values);
      if (plot) plot.setData(data);
      else {
        plot = makePlot(data);
        plotBox.append(plot.root);
      }
    },
    destroy() {
      resize.disconnect();
      scheme.removeEventListener('change', redraw);
      plot?.destroy();
      plot = null;
    },
  };
}

/** The index of the newest non-null value of the series drawn. */
function lastIndex(u: uPlot): number {
  const ys = u.data[1] ?? [];
  for (let i = ys.length - 1; i >= 0; i--) if (ys[i] !== null && ys[i] !== undefined) return i;
  return 0;
}
