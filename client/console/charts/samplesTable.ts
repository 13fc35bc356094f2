// The numbers behind the health charts as a table, behind a <details>: for anyone who cannot or
// prefers not to read a chart. The newest samples first, at most `maxRows` of them.
import type { HealthPoint } from '../../../server/telemetry/healthPoint.ts';

type NumericKey = { [K in keyof HealthPoint]: HealthPoint[K] extends number | null ? K : never }[keyof HealthPoint];

export interface SampleColumn {
  key: NumericKey;
  label: string;
}

function cell(tag: 'td' | 'th', text: string): HTMLTableCellElement {
  const node = document.createElement(tag);
  node.textContent = text;
  if (tag === 'th') node.scope = 'col';
  return node;
}

export function samplesTable(
  caption: string,
  columns: readonly SampleColumn[],
  points: readonly HealthPoint[],
  maxRows = 200,
): HTMLDetailsElement {
  const shown = points.slice(-maxRows).reverse();
  const details = document.createElement('details');
  details.className = 'chart-data';
  const summary = document.createElement('summary');
  summary.textContent = `${caption} as a table (${shown.length}${points.length > shown.length ? ` of ${points.length}` : ''} samples)`;
  const wrap = document.createElement('div');
  wrap.className = 'table-wrap';
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-label', caption);
  const table = document.createElement('table');
  table.className = 'table table-compact';
  const head = table.createTHead().insertRow();
  head.append(cell('th', 'Time'), ...columns.map((c) => cell('th', c.label)));
  const body = table.createTBody();
  for (const p of shown) {
    const row = body.insertRow();
    row.append(cell('td', new Date(p.ts).toLocaleString()), ...columns.map((c) => cell('td', String(p[c.key] ?? '—'))));
  }
  wrap.append(table);
  details.append(summary, wrap);
  return details;
}
