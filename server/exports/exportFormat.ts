// How an export's rows become text: CSV (csv-stringify, a header row first) or NDJSON (one JSON
// object per line). Page by page, so no more than one page of rows is ever text at once. Pure.
import { stringify } from 'csv-stringify/sync';

export const exportFormats = ['csv', 'json'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export const contentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/x-ndjson',
};

export const fileExtensions: Record<ExportFormat, string> = { csv: 'csv', json: 'ndjson' };

/** A row value: what JSON holds. In CSV an object or array is its JSON text, null an empty cell. */
export type ExportValue = string | number | boolean | null | { [key: string]: unknown } | unknown[];

const cellOf = (v: unknown): string | number => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
};

/**
 * One page of rows as text. CSV: the header row before the first page (also when it is empty),
 * RFC 4180 quoting, CRLF-free `\n` records; a text cell starting with = + - @ (a spreadsheet
 * formula) is prefixed with `'` (csv-stringify's escape_formulas, OWASP "CSV injection"), numbers
 * are left alone. NDJSON: each row as JSON, a `\n` after each.
 */
export function encodePage(
  format: ExportFormat,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  first: boolean,
): string {
  if (format === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const records = rows.map((r) => columns.map((c) => cellOf(r[c])));
  if (first && records.length === 0) return stringify([[...columns]], { escape_formulas: true });
  return stringify(records, { header: first, columns: [...columns], escape_formulas: true });
}
