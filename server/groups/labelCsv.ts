// The label CSV: a header `serial,key,value`, then one label per record. Read by csv-parse (the
// `csv` project): quoted values may hold commas, quotes ("") and line breaks. An empty value
// removes the key. Pure, so its edge cases are unit-tested.
import { CsvError, parse } from 'csv-parse/sync';
import { badRequest } from '../errors.ts';
import { unstorableReason } from '../http/storableText.ts';

export const MAX_LABEL_ROWS = 100_000;

export interface LabelRow {
  /** The record's number in the file, the header being record 1. */
  row: number;
  serial: string;
  key: string;
  value: string;
}

export interface LabelCsv {
  rows: LabelRow[];
  errors: { row: number; message: string }[];
}

export function parseLabelCsv(text: string): LabelCsv {
  let records: string[][];
  try {
    // Not trimmed: a value is what was written between the separators (or the quotes).
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true });
  } catch (err) {
    if (err instanceof CsvError) throw badRequest('validation_failed', `the file is not CSV: ${err.message}`, [{ path: 'body', message: err.message }], { cause: err });
    throw err;
  }
  const header = (records[0] ?? []).map((h) => h.trim().toLowerCase());
  const at = { serial: header.indexOf('serial'), key: header.indexOf('key'), value: header.indexOf('value') };
  if (at.serial < 0 || at.key < 0 || at.value < 0) return { rows: [], errors: [{ row: 1, message: 'the header must name the columns serial, key and value' }] };
  const rows: LabelRow[] = [];
  const errors: LabelCsv['errors'] = [];
  records.slice(1).forEach((cells, i) => {
    const row = i + 2;
    if (rows.length >= MAX_LABEL_ROWS) {
      if (rows.length === MAX_LABEL_ROWS && errors.at(-1)?.message.startsWith('more than') !== true) errors.push({ row, message: `more than ${MAX_LABEL_ROWS} rows; the rest was not read` });
      return;
    }
    const serial = (cells[at.serial] ?? '').trim();
    const key = (cells[at.key] ?? '').trim();
    const value = cells[at.value] ?? '';
    const bad = [serial, key, value].map(unstorableReason).find((r) => r !== undefined);
    if (bad) errors.push({ row, message: bad });
    else if (!serial) errors.push({ row, message: 'no serial' });
    else if (key.length < 1 || key.length > 64) errors.push({ row, message: 'a key has 1 to 64 characters' });
    else if (value.length > 256) errors.push({ row, message: 'a value has at most 256 characters' });
    else rows.push({ row, serial, key, value });
  });
  return { rows, errors };
}
