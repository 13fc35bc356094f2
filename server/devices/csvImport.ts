// Parses the device import file: a header naming `serial` and `model` (other columns become
// labels), one terminal per line. Pure, so its edge cases are unit-tested.
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

/** Splits one CSV line, honouring double quotes ("" is a quote inside a quoted field). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

/**
 * A cell the database cannot store (NUL) refuses the whole file, like any other bad request body:
 * 400 naming each such cell as `line N.<column>`, nothing imported.
 */
function refuseUnstorableCells(lines: readonly string[], header: readonly string[]): void {
  const fields = lines.flatMap((raw, i) =>
    unstorableReason(raw) === undefined
      ? []
      : splitCsvLine(raw).flatMap((cell, col) => {
          const message = unstorableReason(cell);
          const name = header[col];
          const column = i > 0 && name && unstorableReason(name) === undefined ? name : `column ${col + 1}`;
          return message ? [{ path: `line ${i + 1}.${column}`, message }] : [];
        }),
  );
  if (fields.length > 0) throw badRequest('validation_failed', 'the file did not pass validation', fields);
}

export function parseDeviceCsv(text: string, maxRows = 100_000): ImportParse {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const errors: ImportParse['errors'] = [];
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  refuseUnstorableCells(lines, header);
  const serialAt = header.indexOf('serial');
  const modelAt = header.indexOf('model');
  if (serialAt < 0 || modelAt < 0) {
    return { rows: [], errors: [{ line: 1, message: 'the header must name the columns serial and model' }] };
  }
  const rows: ImportRow[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw.trim()) continue;
    const line = i + 1;
    if (rows.length >= maxRows) {
      errors.push({ line, message: `more than ${maxRows} rows; the rest was not read` });
      break;
    }
    const cells = splitCsvLine(raw);
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
  return { rows, errors };
}
