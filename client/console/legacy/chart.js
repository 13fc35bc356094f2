// Plain SVG line charts for health history. Each chart is an <svg role="img"> with a text
// summary (latest, min, max) for screen readers, and a data table behind a <details>.
import { h, s } from './dom.js';

// A small drawing space, scaled to the width available: labels stay readable on a tablet.
const W = 480;
const H = 170;
const PAD = { l: 44, r: 10, t: 10, b: 28 };

function niceTicks(min, max, count = 4) {
  if (min === max) return [min];
  const span = max - min;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => span / st <= count) ?? step0;
  const out = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(Math.round(v * 1000) / 1000);
  return out;
}

function timeLabel(ms, spanMs) {
  const d = new Date(ms);
  if (spanMs <= 2 * 86_400_000) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

let chartSeq = 0;

/**
 * lineChart({title, unit, points: [{t, v}], from, to, domain?: [min, max], bands?: [{from, to, className}]})
 */
export function lineChart({ title, unit, points, from, to, domain, bands = [], className = '' }) {
  const id = `chart-${++chartSeq}`;
  const vals = points.filter((p) => p.v !== null && p.v !== undefined);
  const figure = h('figure', { class: `chart ${className}`, dataset: { chart: title } });
  const caption = h('figcaption', { id: `${id}-cap` }, h('span', { class: 'chart-title' }, title));
  figure.append(caption);

  figure.dataset.points = '0';
  if (!vals.length) {
    figure.append(h('p', { class: 'muted chart-empty' }, 'No samples in this period.'));
    return figure;
  }

  let lo = domain ? domain[0] : Math.min(...vals.map((p) => p.v));
  let hi = domain ? domain[1] : Math.max(...vals.map((p) => p.v));
  if (!domain) {
    const pad = (hi - lo) * 0.1 || Math.max(1, Math.abs(hi) * 0.1);
    lo -= pad;
    hi += pad;
  }
  const x0 = from;
  const x1 = Math.max(to, from + 1);
  const sx = (t) => PAD.l + ((t - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const sy = (v) => PAD.t + (1 - (v - lo) / (hi - lo || 1)) * (H - PAD.t - PAD.b);

  // A gap of more than 3 typical intervals (the device was silent) breaks the line.
  const gaps = [];
  for (let i = 1; i < vals.length; i++) gaps.push(vals[i].t - vals[i - 1].t);
  const typical = gaps.length ? gaps.slice().sort((a, b) => a - b)[Math.floor(gaps.length / 2)] : 0;
  let d = '';
  vals.forEach((p, i) => {
    const broken = i === 0 || (typical && p.t - vals[i - 1].t > typical * 3);
    d += `${broken ? 'M' : 'L'}${sx(p.t).toFixed(1)},${sy(p.v).toFixed(1)}`;
  });

  const last = vals[vals.length - 1];
  const minV = Math.min(...vals.map((p) => p.v));
  const maxV = Math.max(...vals.map((p) => p.v));
  const fmt = (v) => `${Math.round(v * 10) / 10}${unit}`;
  // What the chart shows, for scripts and tests: the number of points and the latest value.
  figure.dataset.points = String(vals.length);
  figure.dataset.latest = String(last.v);
  const summary = `${title}: latest ${fmt(last.v)}, lowest ${fmt(minV)}, highest ${fmt(maxV)} over ${vals.length} samples.`;

  const yTicks = niceTicks(lo, hi, 4).filter((v) => v >= lo && v <= hi);
  const xTicks = [];
  for (let i = 0; i <= 4; i++) xTicks.push(x0 + ((x1 - x0) * i) / 4);

  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart-svg', focusable: 'false' },
    s('title', { id: `${id}-title` }, title),
    s('desc', { id: `${id}-desc` }, summary),
    bands.map((b) => {
      const top = sy(Math.min(hi, b.to));
      const bottom = sy(Math.max(lo, b.from));
      return bottom > top
        ? s('rect', { class: `chart-band ${b.className ?? ''}`, x: PAD.l, y: top, width: W - PAD.l - PAD.r, height: bottom - top })
        : null;
    }),
    yTicks.map((v) =>
      s(
        'g',
        { class: 'chart-grid' },
        s('line', { x1: PAD.l, x2: W - PAD.r, y1: sy(v), y2: sy(v) }),
        s('text', { x: PAD.l - 6, y: sy(v) + 5, 'text-anchor': 'end' }, `${v}`),
      ),
    ),
    xTicks.map((t, i) =>
      s(
        'text',
        { class: 'chart-xlabel', x: sx(t), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle' },
        timeLabel(t, x1 - x0),
      ),
    ),
    s('path', { class: 'chart-line', d }),
    s('circle', { class: 'chart-last', cx: sx(last.t), cy: sy(last.v), r: 3.5 }),
  );
  figure.append(svg, h('p', { class: 'chart-summary small' }, `Latest ${fmt(last.v)} · min ${fmt(minV)} · max ${fmt(maxV)}`));
  return figure;
}

/** The same numbers as a table, for anyone who cannot or prefers not to read the chart. */
export function dataTable(caption, columns, points, maxRows = 200) {
  const shown = points.slice(-maxRows).reverse();
  return h(
    'details',
    { class: 'chart-data' },
    h('summary', null, `${caption} as a table (${shown.length}${points.length > shown.length ? ` of ${points.length}` : ''} samples)`),
    h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
      h(
        'table',
        { class: 'table table-compact' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Time'),
            columns.map((c) => h('th', { scope: 'col' }, c.label)),
          ),
        ),
        h(
          'tbody',
          null,
          shown.map((p) =>
            h(
              'tr',
              null,
              h('td', null, new Date(p.ts).toLocaleString()),
              columns.map((c) => h('td', null, p[c.key] ?? '—')),
            ),
          ),
        ),
      ),
    ),
  );
}
