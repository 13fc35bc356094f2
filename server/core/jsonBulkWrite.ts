// Many rows in one statement with one bound parameter: the rows travel as a JSON array that
// jsonb_to_recordset unpacks on the database into a relation `x`. Ten bound parameters a row,
// built by the query builder for the thousands of rows of a fleet-wide command or a flush, held
// the broker's thread far longer than one JSON.stringify (and a statement binds at most 65,535).
// Every writer of many rows (timeline, health history, device_state, command inserts and state
// changes, diagnostics) goes through here.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import type { Tx } from './transaction.ts';
import { sqlState } from './sqlState.ts';

/** What a row carries in JSON for each SQL type of the record set. A Date becomes its ISO text through JSON.stringify. */
interface JsonOfType {
  text: string;
  boolean: boolean;
  int: number;
  timestamptz: Date | string;
  jsonb: unknown;
}
export type RecordsetType = keyof JsonOfType;
/** The record set's columns, SQL name → SQL type, in the order the statement reads them. */
export type RecordsetColumns = Readonly<Record<string, RecordsetType>>;
/** One row of the record set: every column, each may be null. */
export type RecordOf<C extends RecordsetColumns> = { [K in keyof C]: JsonOfType[C[K]] | null };

const SQL_NAME = /^[a-z_][a-z0-9_]*$/;

function columnList(columns: RecordsetColumns): string {
  return Object.entries(columns)
    .map(([name, type]) => {
      // Names come from code, never from input; the check keeps it that way.
      if (!SQL_NAME.test(name)) throw new Error(`not a plain column name: ${name}`);
      return `${name} ${type}`;
    })
    .join(', ');
}

/**
 * `rows` as the relation `x`, for the FROM of an insert, update or upsert. With `ordered`, `x.n`
 * numbers the rows in the order given (ordinality), for a statement that must keep that order.
 */
export function jsonRecordset<C extends RecordsetColumns>(columns: C, rows: readonly RecordOf<C>[], opts: { ordered?: boolean } = {}): SQL {
  return recordsetOfJson(columns, JSON.stringify(rows), opts);
}

/** The same relation from the rows' JSON array text (serialised whole, or row by row and joined). */
function recordsetOfJson(columns: RecordsetColumns, json: string, opts: { ordered?: boolean }): SQL {
  const list = columnList(columns);
  if (!opts.ordered) return sql`jsonb_to_recordset(${json}::jsonb) as x(${sql.raw(list)})`;
  const names = Object.keys(columns).join(', ');
  return sql`rows from (jsonb_to_recordset(${json}::jsonb) as (${sql.raw(list)})) with ordinality as x(${sql.raw(`${names}, n`)})`;
}

export interface JsonBulkWriterSpec<R, C extends RecordsetColumns> {
  db: Db;
  columns: C;
  /** One row as the record set reads it. */
  toRecord(row: R): RecordOf<C>;
  /** The statement around the record set (`from ${recordset}`). */
  statement(recordset: SQL): SQL;
  /** Rows per statement: small chunks keep each statement short, so API queries behind it wait little. */
  chunkSize: number;
  ordered?: boolean;
  /** Started before each statement, ended after it (a histogram timer). */
  time?: () => () => void;
}

/**
 * Why a row was dropped: JSON.stringify threw on it (a BigInt, a cycle, nesting deeper than the
 * stack), or the database refused it alone for its content (SQLSTATE class 22 or 23).
 */
export type DropReason = 'unserialisable' | 'refused';

export interface DroppedRow<R> {
  row: R;
  reason: DropReason;
  error: unknown;
}

/** What a write-behind pass did not write. */
export interface WriteBehindOutcome<R> {
  /** To write again later, in order: what the database refused for a reason not of the rows themselves. */
  retry: R[];
  /** Rows that can never be written (a deleted device's row, a value the column refuses, one JSON cannot hold), so dropped. */
  dropped: DroppedRow<R>[];
  /** The first error met, when there was one (the one behind `retry` when that is not empty). */
  error?: unknown;
}

export interface JsonBulkWriter<R> {
  /**
   * Writes every row, chunk by chunk; the first failing chunk throws (the chunks before it stay
   * written, unless `tx` is given: then they are part of that transaction and go with it).
   */
  writeAll(rows: readonly R[], tx?: Tx): Promise<void>;
  /**
   * Writes as much as it can: a row JSON cannot hold is dropped before any statement, and a chunk
   * the database refuses for a row's content is halved until the rows at fault stand alone and are
   * dropped, so one bad row cannot hold the others back; when the database is away (any other
   * error) the rest is handed back to retry.
   */
  writeBehind(rows: readonly R[]): Promise<WriteBehindOutcome<R>>;
}

/** SQLSTATE classes of errors a row causes by its content: 22 data exception, 23 integrity constraint violation. */
export function isRowError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** Each row's JSON text, the rows JSON.stringify throws on set apart. */
function serialiseEach<R>(rows: readonly R[], toRecord: (row: R) => unknown) {
  const ok: { row: R; json: string }[] = [];
  const dropped: DroppedRow<R>[] = [];
  for (const row of rows) {
    try {
      ok.push({ row, json: JSON.stringify(toRecord(row)) });
    } catch (error) {
      dropped.push({ row, reason: 'unserialisable', error });
    }
  }
  return { ok, dropped };
}

/** The chunk's JSON array text, or undefined when some row cannot be serialised. */
function serialiseWhole<R>(rows: readonly R[], toRecord: (row: R) => unknown): string | undefined {
  try {
    return JSON.stringify(rows.map(toRecord));
  } catch {
    return undefined;
  }
}

export function createJsonBulkWriter<R, C extends RecordsetColumns>(spec: JsonBulkWriterSpec<R, C>): JsonBulkWriter<R> {
  const opts = { ordered: spec.ordered };
  async function run(json: string, tx?: Tx): Promise<void> {
    const end = spec.time?.();
    try {
      await (tx ?? spec.db).execute(spec.statement(recordsetOfJson(spec.columns, json, opts)));
    } finally {
      end?.();
    }
  }

  /**
   * Writes `ok` by halving every range the database refuses for a row's content until the rows at
   * fault stand alone, dropped into `dropped`. `failed`: the whole was refused already. Returns
   * where a failure of the database itself stopped it, everything from there on unwritten.
   */
  async function bisect(ok: { row: R; json: string }[], failed: unknown, dropped: DroppedRow<R>[]) {
    // Ranges still to write, the next one last.
    const ranges: [number, number][] = [];
    const refused = (start: number, end: number, err: unknown) => {
      const mid = start + Math.ceil((end - start) / 2);
      if (end - start === 1) dropped.push({ row: ok[start]!.row, reason: 'refused', error: err });
      else ranges.push([mid, end], [start, mid]);
    };
    if (failed === undefined) ranges.push([0, ok.length]);
    else if (ok.length) refused(0, ok.length, failed);
    for (let range = ranges.pop(); range; range = ranges.pop()) {
      const [start, end] = range;
      if (start === end) continue;
      try {
        await run(
          `[${ok
            .slice(start, end)
            .map((e) => e.json)
            .join(',')}]`,
        );
      } catch (err) {
        if (!isRowError(err)) return { start, err };
        refused(start, end, err);
      }
    }
    return undefined;
  }

  return {
    async writeAll(rows, tx) {
      for (let i = 0; i < rows.length; i += spec.chunkSize)
        await run(JSON.stringify(rows.slice(i, i + spec.chunkSize).map(spec.toRecord)), tx);
    },
    async writeBehind(rows) {
      const dropped: DroppedRow<R>[] = [];
      for (let i = 0; i < rows.length; i += spec.chunkSize) {
        const chunk = rows.slice(i, i + spec.chunkSize);
        // The whole chunk in one JSON.stringify, as a rule: row by row costs the broker's thread a third more.
        const json = serialiseWhole(chunk, spec.toRecord);
        let failed: unknown;
        if (json !== undefined) {
          try {
            await run(json);
            continue;
          } catch (err) {
            if (!isRowError(err)) return { retry: rows.slice(i), dropped, error: err };
            failed = err;
          }
        }
        const each = serialiseEach(chunk, spec.toRecord);
        dropped.push(...each.dropped);
        const stop = await bisect(each.ok, failed, dropped);
        if (stop) {
          const retry = each.ok
            .slice(stop.start)
            .map((e) => e.row)
            .concat(rows.slice(i + spec.chunkSize));
          return { retry, dropped, error: stop.err };
        }
      }
      return { retry: [], dropped, error: dropped[0]?.error };
    },
  };
}
