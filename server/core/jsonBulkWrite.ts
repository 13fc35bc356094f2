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
  const json = JSON.stringify(rows);
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

/** What a write-behind pass did not write. */
export interface WriteBehindOutcome<R> {
  /** To write again later, in order: what the database refused for a reason not of the rows themselves. */
  retry: R[];
  /** Refused alone for their own content (a deleted device's row, a value the column refuses), so dropped. */
  dropped: R[];
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
   * Writes as much as it can: a failing chunk is written again row by row, so a row the database
   * refuses for its own content is dropped alone and cannot hold the others back; when the
   * database is away (any other error) the rest is handed back to retry.
   */
  writeBehind(rows: readonly R[]): Promise<WriteBehindOutcome<R>>;
}

/** SQLSTATE classes of errors a row causes by its content: 22 data exception, 23 integrity constraint violation. */
export function isRowError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

export function createJsonBulkWriter<R, C extends RecordsetColumns>(spec: JsonBulkWriterSpec<R, C>): JsonBulkWriter<R> {
  async function write(rows: readonly R[], tx?: Tx): Promise<void> {
    const end = spec.time?.();
    try {
      await (tx ?? spec.db).execute(spec.statement(jsonRecordset(spec.columns, rows.map(spec.toRecord), { ordered: spec.ordered })));
    } finally {
      end?.();
    }
  }

  return {
    async writeAll(rows, tx) {
      for (let i = 0; i < rows.length; i += spec.chunkSize) await write(rows.slice(i, i + spec.chunkSize), tx);
    },
    async writeBehind(rows) {
      const dropped: R[] = [];
      let error: unknown;
      for (let i = 0; i < rows.length; i += spec.chunkSize) {
        const chunk = rows.slice(i, i + spec.chunkSize);
        try {
          await write(chunk);
          continue;
        } catch (err) {
          if (!isRowError(err)) return { retry: rows.slice(i), dropped, error: err };
          error ??= err;
        }
        for (const [j, row] of chunk.entries()) {
          try {
            await write([row]);
          } catch (err) {
            if (!isRowError(err)) return { retry: rows.slice(i + j), dropped, error: err };
            dropped.push(row);
          }
        }
      }
      return { retry: [], dropped, error };
    },
  };
}
