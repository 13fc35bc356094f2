// The device page's health charts: a period picker, the history from the API, then samples
// appended live from the page's stream. The period shown fits the data: a terminal with a few
// minutes of samples gets a chart of those minutes, not a line at the right edge of 24 hours.
import { api, has } from '../api.js';
import { createHealthChart } from '../../charts/healthChart.ts';
import { samplesTable } from '../../charts/samplesTable.ts';
import { errorBox, h, replace, throttle, unavailable } from '../dom.js';

const RANGES = [
  ['6h', '6 hours', 6 * 3600_000],
  ['24h', '24 hours', 24 * 3600_000],
  ['7d', '7 days', 7 * 86_400_000],
  ['30d', '30 days', 30 * 86_400_000],
];

const CHART_MAX_POINTS = 400;
const CHARTED = ['battery', 'temperatureC', 'rssi'];
/** The narrowest period a fitted chart shows, so two samples a second apart are not a wall. */
const MIN_FITTED_MS = 10 * 60_000;

/**
 * The period to draw: the chosen range ending at `to`, or, when the samples cover less than half
 * of it, from a little before the first sample (10 % of what they cover, at least 10 minutes in all).
 */
export function chartWindow(rangeMs, to, firstTs) {
  const from = to - rangeMs;
  if (firstTs === undefined || to - firstTs >= rangeMs / 2) return { from, to, fitted: false };
  const span = Math.max((to - firstTs) * 1.1, MIN_FITTED_MS);
  return { from: Math.max(from, to - span), to, fitted: true };
}

function spanText(ms) {
  const min = Math.max(1, Math.round(ms / 60_000));
  return min < 120 ? `${min} minutes` : `${Math.round(min / 60)} hours`;
}

/** The charts section's parts (`tools`: picker and live status; `box`: the charts) and its feed. */
export function createHealthCharts({ enc, isStopped }) {
  let range = RANGES[1];
  let chart = null; // {to, bucketMs, points}
  let earlyLive = []; // samples that came before the history

  const box = h('div', { class: 'charts' });
  const live = h('span', { class: 'muted small chart-live', dataset: { state: 'connecting' } }, 'Connecting live updates…');
  const picker = h(
    'fieldset',
    { class: 'segmented' },
    h('legend', { class: 'visually-hidden' }, 'Chart period'),
    RANGES.map((r) => {
      const inputId = `range-${r[0]}`;
      return [
        h('input', { type: 'radio', name: 'range', id: inputId, value: r[0], checked: r === range, onchange: () => ((range = r), load()) }),
        h('label', { for: inputId }, r[1]),
      ];
    }),
  );

  const redraw = throttle(render, 1000);
  // Made once and given new points on each render: uPlot redraws its canvas in place.
  const plots = [
    ['battery', createHealthChart({ title: 'Battery', unit: '%', domain: [0, 100], bands: [{ from: 0, to: 15, colorVar: '--bad-bg' }] })],
    ['temperatureC', createHealthChart({ title: 'Temperature', unit: ' °C', bands: [{ from: 60, to: 200, colorVar: '--bad-bg' }] })],
    ['rssi', createHealthChart({ title: 'Signal', unit: ' dBm' })],
  ];
  const row = h(
    'div',
    { class: 'charts-row' },
    plots.map(([, plot]) => plot.figure),
  );

  async function load() {
    if (!has('GET /v1/devices/{id}/health-history')) {
      replace(box, unavailable('Health history'));
      return;
    }
    const to = new Date();
    const from = new Date(to.getTime() - range[2]);
    const asked = range;
    try {
      box.setAttribute('aria-busy', 'true');
      const res = await api('GET', `/v1/devices/${enc}/health-history`, {
        query: { from: from.toISOString(), to: to.toISOString(), maxPoints: CHART_MAX_POINTS },
      });
      if (isStopped() || asked !== range) return;
      // Live points that arrived while this was loading stay (the history may not have them yet).
      const latest = res.points.length ? Date.parse(res.points[res.points.length - 1].ts) : -Infinity;
      const pending = (chart?.points ?? earlyLive).filter((p) => p.live && Date.parse(p.ts) > latest);
      earlyLive = [];
      chart = { to: to.getTime(), bucketMs: res.bucketMs, points: res.points.concat(pending) };
      render();
    } catch (err) {
      replace(box, errorBox(err));
    } finally {
      box.setAttribute('aria-busy', 'false');
    }
  }

  /** A sample from the stream: appended, the period slides to now, drawn at most once a second. */
  function addLivePoint(p) {
    if (!p?.ts) return;
    if (!chart) {
      if (earlyLive.length < CHART_MAX_POINTS) earlyLive.push({ ...p, live: true });
      return;
    }
    const t = Date.parse(p.ts);
    const last = chart.points[chart.points.length - 1];
    if (Number.isNaN(t) || (last && Date.parse(last.ts) >= t)) return; // already shown (or older)
    chart.points.push({ ...p, live: true });
    chart.to = Math.max(Date.now(), t);
    while (chart.points.length > 1 && Date.parse(chart.points[0].ts) < chart.to - range[2]) chart.points.shift();
    // An open page over hours must not grow without bound: keep the last points only.
    if (chart.points.length > CHART_MAX_POINTS * 2) chart.points.splice(0, chart.points.length - CHART_MAX_POINTS * 2);
    redraw();
  }

  function render() {
    if (!chart) return;
    const pts = chart.points;
    const plotted = pts.find((p) => CHARTED.some((key) => p[key] !== null && p[key] !== undefined));
    const first = plotted ? Date.parse(plotted.ts) : undefined;
    const { from, to, fitted } = chartWindow(range[2], chart.to, first);
    // The period drawn, for scripts and tests.
    box.dataset.from = String(from);
    box.dataset.to = String(to);
    box.dataset.fitted = String(fitted);
    for (const [key, plot] of plots)
      plot.show(
        pts.map((p) => ({ t: Date.parse(p.ts), v: p[key] })),
        from,
        to,
      );
    const tableOpen = box.querySelector('details.chart-data')?.open ?? false;
    replace(
      box,
      fitted
        ? h(
            'p',
            { class: 'muted small chart-fitted' },
            `Showing the last ${spanText(to - from)}: no earlier sample in the last ${range[1]}.`,
          )
        : null,
      row,
      pts.length
        ? samplesTable(
            'Health samples',
            [
              { key: 'battery', label: 'Battery %' },
              { key: 'temperatureC', label: 'Temperature °C' },
              { key: 'rssi', label: 'Signal dBm' },
            ],
            pts,
          )
        : null,
      chart.bucketMs ? h('p', { class: 'muted small' }, `Thinned to one sample per ${Math.round(chart.bucketMs / 60000)} minutes.`) : null,
    );
    if (tableOpen) box.querySelector('details.chart-data')?.setAttribute('open', '');
  }

  /** Lets go of the charts' canvases and their resize and colour-scheme listeners. */
  function destroy() {
    for (const [, plot] of plots) plot.destroy();
  }

  return { tools: h('div', { class: 'section-tools' }, picker, live), box, live, load, addLivePoint, destroy };
}
