// Parses the device import file: a header naming `serial` and `model` (other columns become
// labels), one terminal per record. The CSV itself is read by csv-parse (the `csv` project):
// quoted fields may hold commas, quotes ("") and line breaks; a BOM and CRLF are taken. Pure, so
// its edge cases are unit-tested.
import { CsvError, parse } from 'csv-parse/sync';
import { MODEL_PATTERN, SERIAL_PATTERN } from '../../schemas/enrollment.ts';
import { badRequest } from '../errors.ts';
import { unstorableReason } from '../http/storableText.ts';

export { MODEL_PATTERN, SERIAL_PATTERN };

export interface ImportRow {
  line: number;
  serial: string;
  model: string;
  labels: Record<string, string>;
}

export interface ImportParse {
  rows: ImportRow[];
  errors: { line: number; message: string }[];
}

/** One CSV record and the line of the file it starts on. */
interface CsvRecord {
  line: number;
  cells: string[];
}

const options = {
  bom: true,
  // Cells are trimmed (inside quotes too, as the import always did): ` Lane 3000 ` is a model.
  trim: true,
  skip_empty_lines: true,
  relax_column_count: true,
  // A stray quote inside an unquoted cell (`x"y`) is kept as a character, not a syntax error.
  relax_quotes: true,
} as const;

// csv-parse's `lines` (the record's info) is the line a record ends on, but it counts a CRLF
// inside a quoted field as two lines, and carries that surplus into every later record: the
// physical lines are recovered by subtracting the surplus so far.
const breakChars = (cells: readonly string[]) => cells.reduce((n, c) => n + (c.match(/[\r\n]/g)?.length ?? 0), 0);
const lineBreaks = (cells: readonly string[]) => cells.reduce((n, c) => n + (c.match(/\r\n|\r|\n/g)?.length ?? 0), 0);

/**
 * The records of a CSV text. A syntax error (a quote never closed, text after a closing quote)
 * ends the reading: the records before it are returned with the error at the line it names.
 */
function readRecords(text: string): { records: CsvRecord[]; error?: { line: number; message: string } } {
  const records: CsvRecord[] = [];
  let lastLine = 0;
  let surplus = 0;
  try {
    parse(text, {
      ...options,
      on_record: (record: unknown, info) => {
        const cells = Array.isArray(record) ? record.map(String) : [];
        const breaks = lineBreaks(cells);
        surplus += breakChars(cells) - breaks;
        lastLine = info.lines - surplus;
        records.push({ line: lastLine - breaks, cells: cells.map((c) => c.trim()) });
        return null;
      },
    });
    return { records };
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    // An unclosed quote is only noticed at the end of the file: it opened in the next record.
    const unclosed = err.code === 'CSV_QUOTE_NOT_CLOSED';
    const line = !unclosed && typeof err.lines === 'number' ? err.lines - surplus : lastLine + 1;
    // Its own message names its own line count, which `line` corrects.
    const what = unclosed ? `a quoted field opened after line ${lastLine} is never closed` : err.message.replace(/ at line \d+/, '');
    return { records, error: { line, message: `${what}; the rest was not read` } };
  }
}

/** Splits one CSV line, honouring double quotes ("" is a quote inside a quoted field); cells trimmed. */
export function splitCsvLine(line: string): string[] {
  const { records } = readRecords(line);
  // Lenient with a quote left open on a single line: it reads to the end of the line.
  if (records.length === 0 && line.includes('"')) return readRecords(`${line}"`).records[0]?.cells ?? [''];
  return records[0]?.cells ?? [''];
}

/**
 * A cell the database cannot store (NUL, a lone surrogate) refuses the whole file, like any other
 * bad request body: 400 naming each such cell as `line N.<column>`, nothing imported. csv-parse
 * reads the text as UTF-8, which turns a lone surrogate into U+FFFD: those are found in the raw
 * text and named by their line alone.
 */
function refuseUnstorable(text: string, records: readonly CsvRecord[], header: readonly string[]): void {
  if (unstorableReason(text) === undefined) return;
  const fields = records.flatMap((r, i) =>
    r.cells.flatMap((cell, col) => {
      const message = unstorableReason(cell);
      const name = header[col];
      const column = i > 0 && name && unstorableReason(name) === undefined ? name : `column ${col + 1}`;
      return message ? [{ path: `line ${r.line}.${column}`, message }] : [];
    }),
  );
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const message = /[\uD800-\uDFFF]/u.test(raw) ? unstorableReason(raw.replace(/\u0000/g, '')) : undefined;
    if (message) fields.push({ path: `line ${i + 1}`, message });
  });
  throw badRequest('validation_failed', 'the file did not pass validation', fields);
}

export function parseDeviceCsv(text: string, maxRows = 100_000): ImportParse {
  const { records, error } = readRecords(text);
  const errors: ImportParse['errors'] = [];
  const header = (records[0]?.line === 1 ? records[0].cells : []).map((h) => h.toLowerCase());
  refuseUnstorable(text, records, header);
  const serialAt = header.indexOf('serial');
  const modelAt = header.indexOf('model');
  if (serialAt < 0 || modelAt < 0) {
    return { rows: [], errors: [{ line: 1, message: 'the header must name the columns serial and model' }] };
  }
  const rows: ImportRow[] = [];
  const seen = new Set<string>();
  for (const { line, cells } of records.slice(1)) {
    if (rows.length >= maxRows) {
      errors.push({ line, message: `more than ${maxRows} rows; the rest was not read` });
      return { rows, errors };
    }
    const serial = cells[serialAt] ?? '';
    const model = cells[modelAt] ?? '';
    if (!SERIAL_PATTERN.test(serial)) {
      errors.push({ line, message: `bad serial "${serial.slice(0, 70)}"` });
      continue;
    }
    if (!MODEL_PATTERN.test(model)) {
      errors.push({ line, message: `bad model "${model.slice(0, 70)}"` });
      continue;
    }
    if (seen.has(serial)) {
      errors.push({ line, message: `serial ${serial} appears twice in the file` });
      continue;
    }
    seen.add(serial);
    const labels: Record<string, string> = {};
    header.forEach((h, col) => {
      if (col !== serialAt && col !== modelAt && h && cells[col]) labels[h] = cells[col]!;
    });
    rows.push({ line, serial, model, labels });
  }
  if (error) errors.push(error);
  return { rows, errors };
}
