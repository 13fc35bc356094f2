// What the CLI prints: the API's JSON as it came (`--json`), aligned tables for people, and a
// campaign's progress (a redrawn bar on a terminal, one line per change into a pipe or a log).

export interface Output {
  /** A line on stdout. */
  line(text: string): void;
  /** A note on stderr: hints and progress, never mixed into data a script reads. */
  note(text: string): void;
  /** The API's answer as JSON on stdout. */
  json(value: unknown): void;
  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void;
  readonly isTty: boolean;
  /** Redraws one status line in place (TTY only). */
  status(text: string): void;
  /** Ends a redrawn status line. */
  endStatus(): void;
}

export interface Column<T> {
  header: string;
  value(row: T): string | number | boolean | null | undefined;
}

export const cell = (v: string | number | boolean | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : String(v);

/** Rows as columns padded to their widest cell; the last column is not padded. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r)).replace(/\s+/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row
      .map((v, i) => (i === row.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(columns.map((c) => c.header.toUpperCase())), ...cells.map(fmt)];
}

/** `[#########-----------]  45%` for done of total. */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export function createOutput(stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Output {
  let statusOpen = false;
  const isTty = Boolean(stdout.isTTY);
  return {
    isTty,
    line: (text) => void stdout.write(`${text}\n`),
    note: (text) => void stderr.write(`${text}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    table(rows, columns) {
      if (rows.length === 0) {
        stderr.write('(none)\n');
        return;
      }
      for (const l of formatTable(rows, columns)) stdout.write(`${l}\n`);
    },
    status(text) {
      const cols = stdout.columns || 100;
      stdout.write(`\r${text.slice(0, cols - 1).padEnd(cols - 1)}`);
      statusOpen = true;
    },
    endStatus() {
      if (statusOpen) stdout.write('\n');
      statusOpen = false;
    },
  };
}

/** Any answer field as a table cell: scalars as they are, the rest as compact JSON. */
export function shown(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** An object's fields one per line (`devices get`, `rollouts get` without --json). */
export function formatRecord(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${shown(record[k])}`);
}
