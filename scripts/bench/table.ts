// Plain-text results table, readable in a CI log.
import type { TableRow } from './scenario.ts';

const mark = (pass: boolean | null): string => (pass === null ? '' : pass ? 'pass' : 'MISS');

export function renderTable(title: string, rows: readonly TableRow[]): string {
  const header = ['metric', 'posfleet', 'raw aedes', 'target', ''];
  const body = rows.map((r) => [r.metric, r.ours, r.baseline ?? '', r.target ?? '', mark(r.pass)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, line(header), rule, ...body.map(line)].join('\n');
}

/** A number for the table; '-' for nothing measured. */
export function cell(value: number | null | undefined, unit = '', digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })}${unit}`;
}
