// The device page's health charts: a period picker, the history from the API, then samples
// appended live from the page's stream (drawn at most once a second). The period shown fits the
// data: a terminal with a few minutes of samples gets a chart of those minutes, not a line at the
// right edge of 24 hours. Built with the DOM API: the device page (views/device/HealthChartsSection.tsx)
// places `tools` and `box` and feeds `addLivePoint`.
import { fillPath } from '../../apiClient.ts';
import { healthHistoryAnswer, healthPoint, type HealthPoint } from '../../../server/telemetry/healthPoint.ts';
import { api, has } from '../session.ts';
import { createHealthChart } from './healthChart.ts';
import { appendLive, chartWindow, spanText, withPendingLive, type ChartSample } from './healthSeries.ts';
import { samplesTable } from './samplesTable.ts';
import { throttle } from '../throttle.ts';

const RANGES = [
  { key: '6h', label: '6 hours', ms: 6 * 3600_000 },
  { key: '24h', label: '24 hours', ms: 24 * 3600_000 },
  { key: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { key: '30d', label: '30 days', ms: 30 * 86_400_000 },
] as const;
type Range = (typeof RANGES)[number];

const CHART_MAX_POINTS = 400;
const HISTORY_ROUTE = 'GET /v1/devices/{id}/health-history';
const CHARTED = ['battery', 'temperatureC', 'rssi'] as const;
type ChartedKey = (typeof CHARTED)[number];

export interface HealthCharts {
  tools: HTMLElement;
  box: HTMLElement;
  /** The live status line; the device page writes its health stream's state into it. */
  live: HTMLElement;
  load(): Promise<void>;
  /** A `device.health` event's data from the stream; anything that is not a health point is ignored. */
  addLivePoint(data: unknown): void;
  destroy(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function createHealthCharts({ deviceId, isStopped }: { deviceId: string; isStopped(): boolean }): HealthCharts {
  let range: Range = RANGES[1];
  let chart: { to: number; bucketMs: number | null; samples: ChartSample[] } | null = null;
  let earlyLive: ChartSample[] = []; // samples that came before the history

  const box = el('div', 'charts');
  const live = el('span', 'muted small chart-live', 'Connecting live updates…');
  live.dataset.state = 'connecting';
  const picker = el('fieldset', 'segmented');
  picker.append(el('legend', 'visually-hidden', 'Chart period'));
  for (const r of RANGES) {
    const input = el('input', '');
    Object.assign(input, { type: 'radio', name: 'range', id: `range-${r.key}`, value: r.key, checked: r === range });
    input.addEventListener('change', () => {
      range = r;
      void load();
    });
    const label = el('label', '', r.label);
    label.htmlFor = input.id;
    picker.append(input, label);
  }

  // Made once and given new points on each render: uPlot redraws its canvas in place.
  const bad = (from: number, to: number) => [{ from, to, colorVar: '--bad-bg' }];
  const plots: [ChartedKey, ReturnType<typeof createHealthChart>][] = [
    ['battery', createHealthChart({ title: 'Battery', unit: '%', domain: [0, 100], bands: bad(0, 15) })],
    ['temperatureC', createHealthChart({ title: 'Temperature', unit: ' °C', bands: bad(60, 200) })],
    ['rssi', createHealthChart({ title: 'Signal', unit: ' dBm' })],
  ];
  const row = el('div', 'charts-row');
  row.append(...plots.map(([, plot]) => plot.figure));

  const redraw = throttle(render, 1000);

  async function load() {
    if (!has(HISTORY_ROUTE)) {
      const p = el('p', 'unavailable', 'Health history: not available in this build.');
      p.dataset.unavailable = 'Health history';
      box.replaceChildren(p);
      return;
    }
    const to = new Date();
    const from = new Date(to.getTime() - range.ms);
    const asked = range;
    try {
      box.setAttribute('aria-busy', 'true');
      const res = await api.call(healthHistoryAnswer, 'GET', fillPath('/v1/devices/{id}/health-history', { id: deviceId }), {
        query: { from: from.toISOString(), to: to.toISOString(), maxPoints: CHART_MAX_POINTS },
      });
      if (isStopped() || asked !== range) return;
      // Live points that arrived while this was loading stay (the history may not have them yet).
      const samples = withPendingLive(res.points, chart?.samples ?? earlyLive);
      earlyLive = [];
      chart = { to: to.getTime(), bucketMs: res.bucketMs, samples };
      render();
    } catch (err) {
      const p = el('p', 'form-error', err instanceof Error ? err.message : String(err));
      p.setAttribute('role', 'alert');
      box.replaceChildren(p);
    } finally {
      box.setAttribute('aria-busy', 'false');
    }
  }

  function addLivePoint(data: unknown) {
    const parsed = healthPoint.safeParse(data);
    if (!parsed.success) return;
    const point: HealthPoint = parsed.data;
    if (!chart) {
      if (earlyLive.length < CHART_MAX_POINTS) earlyLive.push({ ...point, live: true });
      return;
    }
    const to = appendLive(chart.samples, point, range.ms, Date.now(), CHART_MAX_POINTS * 2);
    if (to === null) return; // already shown (or older)
    chart.to = to;
    redraw();
  }

  function render() {
    if (!chart) return;
    const { samples } = chart;
    const plotted = samples.find((p) => CHARTED.some((key) => p[key] !== null));
    const { from, to, fitted } = chartWindow(range.ms, chart.to, plotted ? Date.parse(plotted.ts) : undefined);
    // The period drawn, for scripts and tests.
    box.dataset.from = String(from);
    box.dataset.to = String(to);
    box.dataset.fitted = String(fitted);
    for (const [key, plot] of plots)
      plot.show(
        samples.map((p) => ({ t: Date.parse(p.ts), v: p[key] })),
        from,
        to,
      );
    const tableOpen = box.querySelector('details.chart-data')?.hasAttribute('open') ?? false;
    const parts: HTMLElement[] = [];
    if (fitted)
      parts.push(
        el('p', 'muted small chart-fitted', `Showing the last ${spanText(to - from)}: no earlier sample in the last ${range.label}.`),
      );
    parts.push(row);
    if (samples.length) {
      const table = samplesTable(
        'Health samples',
        [
          { key: 'battery', label: 'Battery %' },
          { key: 'temperatureC', label: 'Temperature °C' },
          { key: 'rssi', label: 'Signal dBm' },
        ],
        samples,
      );
      table.open = tableOpen;
      parts.push(table);
    }
    if (chart.bucketMs) parts.push(el('p', 'muted small', `Thinned to one sample per ${Math.round(chart.bucketMs / 60000)} minutes.`));
    box.replaceChildren(...parts);
  }

  const tools = el('div', 'section-tools');
  tools.append(picker, live);
  return {
    tools,
    box,
    live,
    load,
    addLivePoint,
    /** Lets go of the charts' canvases and their resize and colour-scheme listeners. */
    destroy() {
      for (const [, plot] of plots) plot.destroy();
    },
  };
}
