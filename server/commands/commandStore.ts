// The commands' SQL: inserts as one JSON parameter per chunk, state changes written behind in
// chunks, and the reads the API needs. No state of its own beyond the rows whose write failed.
import { and, desc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { commandBatches, commands, finalCommandStates, type CommandRow } from '../../schemas/db.ts';
import { reportDropped } from '../core/droppedRows.ts';
import { createJsonBulkWriter, jsonRecordset } from '../core/jsonBulkWrite.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { decodeTimeCursor, newestFirstPage, olderThan } from '../http/timeCursor.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export const INSERT_CHUNK = 1000;
const WRITE_CHUNK = 500;
/** Rows one orphan expiry pass moves at most: each statement stays short. */
const EXPIRY_CHUNK = 2000;

/** The final states as an SQL list; they are code constants, never input. */
const finalList = sql.raw(finalCommandStates.map((s) => `'${s}'`).join(', '));
const notFinal = notInArray(commands.state, [...finalCommandStates]);

const SHARED_INSERT_COLUMNS = { id: 'text', device_id: 'text' } as const;

/** Whether `r` is stored like `first` but for its id and device: same batch, type, payload, times and author. */
const sharesBatchColumns = (r: CommandRow, first: CommandRow) =>
  r.batchId === first.batchId &&
  r.type === first.type &&
  r.payload === first.payload &&
  r.issuedAt.getTime() === first.issuedAt.getTime() &&
  r.expiresAt?.getTime() === first.expiresAt?.getTime() &&
  r.createdBy === first.createdBy;

export interface CommandStoreDeps {
  db: Db;
  metrics: Metrics;
  log: Logger;
}

export function createCommandStore({ db, metrics, log }: CommandStoreDeps) {
  // Rows whose write failed; retried first next time. They are the tracker's own objects, so
  // they carry the newest state even if the command moved on meanwhile.
  let unwritten: CommandRow[] = [];

  const inserts = createJsonBulkWriter({
    db,
    columns: { id: 'text', device_id: 'text', batch_id: 'text', type: 'text', payload: 'jsonb', issued_at: 'timestamptz', expires_at: 'timestamptz', created_by: 'text' },
    chunkSize: INSERT_CHUNK,
    toRecord: (r: CommandRow) => ({
      id: r.id,
      device_id: r.deviceId,
      batch_id: r.batchId,
      type: r.type,
      payload: r.payload,
      issued_at: r.issuedAt,
      expires_at: r.expiresAt,
      created_by: r.createdBy,
    }),
    statement: (x) => sql`
      insert into ${commands} (id, device_id, batch_id, type, payload, state, attempts, issued_at, expires_at, created_by, updated_at)
      select x.id, x.device_id, x.batch_id, x.type, x.payload, 'pending', 0, x.issued_at, x.expires_at, x.created_by, x.issued_at
      from ${x}`,
  });

  // One JSON parameter per chunk, as for inserts: ten bound parameters a row, built by the query
  // builder for thousands of rows, held the broker's thread during every fan-out. A final row is
  // never written over: with several instances a late write of one (a terminal that moved, a
  // cancel or expiry done in SQL) would otherwise undo the answer another one stored.
  const changeWrites = createJsonBulkWriter({
    db,
    columns: {
      id: 'text',
      state: 'text',
      stage: 'text',
      progress: 'int',
      error: 'jsonb',
      result: 'jsonb',
      attempts: 'int',
      sent_at: 'timestamptz',
      finished_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    chunkSize: WRITE_CHUNK,
    time: () => metrics.dbFlushSeconds.startTimer({ table: 'commands' }),
    toRecord: (c: CommandRow) => ({
      id: c.id,
      state: c.state,
      stage: c.stage,
      progress: c.progress,
      error: c.error ?? null,
      result: c.result ?? null,
      attempts: c.attempts,
      sent_at: c.sentAt,
      finished_at: c.finishedAt,
      updated_at: c.updatedAt,
    }),
    statement: (x) => sql`
      update ${commands} as c set
        state = x.state, stage = x.stage, progress = x.progress, error = x.error, result = x.result,
        attempts = x.attempts, sent_at = x.sent_at, finished_at = x.finished_at, updated_at = x.updated_at
      from ${x}
      where c.id = x.id and c.state not in (${finalList})`,
  });

  return {
    /**
     * Inserts commands in one statement per 1,000 rows. The rows differ only in id and device,
     * so they travel as one JSON parameter instead of ten parameters a row: building and cloning
     * a 10,000-row insert would otherwise hold the broker's thread for most of a second.
     * With `tx`, in that transaction (with the audit entry of the request that sends them).
     */
    insert: (list: readonly CommandRow[], tx?: Tx) => inserts.writeAll(list, tx),

    /**
     * Inserts a batch's commands, which share everything but id and device (pendingCommandRows
     * made them from one request): only those two travel per row, the rest once as parameters.
     * PGlite parsed each row's payload and timestamps again; a 10,000-row fleet command's insert
     * took a third less without. Rows that differ in anything else go through `insert`.
     */
    async insertShared(list: readonly CommandRow[], tx: Tx) {
      const first = list[0];
      if (!first || !list.every((r) => sharesBatchColumns(r, first))) return inserts.writeAll(list, tx);
      for (let i = 0; i < list.length; i += INSERT_CHUNK) {
        const rows = jsonRecordset(SHARED_INSERT_COLUMNS, list.slice(i, i + INSERT_CHUNK).map((r) => ({ id: r.id, device_id: r.deviceId })));
        await tx.execute(sql`
          insert into ${commands} (id, device_id, batch_id, type, payload, state, attempts, issued_at, expires_at, created_by, updated_at)
          select x.id, x.device_id, ${first.batchId}, ${first.type}, ${JSON.stringify(first.payload)}::jsonb, 'pending', 0,
            ${first.issuedAt.toISOString()}::timestamptz, ${first.expiresAt?.toISOString() ?? null}::timestamptz, ${first.createdBy},
            ${first.issuedAt.toISOString()}::timestamptz
          from ${rows}`);
      }
    },

    /**
     * Writes changed rows (with those a failed write left behind). A row the database refuses
     * for its own content is dropped alone; when the database is away the rest waits for the
     * next call and the error goes to the caller.
     */
    async writeChanges(fresh: Map<string, CommandRow>) {
      const changes = unwritten.filter((c) => !fresh.has(c.id)).concat([...fresh.values()]);
      const outcome = await changeWrites.writeBehind(changes);
      unwritten = outcome.retry;
      reportDropped(outcome.dropped, { buffer: 'commands', key: (c) => c.id, log, metrics });
      if (outcome.retry.length) {
        log.error({ err: outcome.error }, 'writing command changes failed; will retry');
        throw outcome.error;
      }
    },

    /** Commands not final: what the tracker holds again after a restart. */
    open: () => db.select().from(commands).where(notFinal),

    /** The open commands of these devices (a terminal taken in by this instance). */
    openOf: (deviceIds: readonly string[]) =>
      deviceIds.length ? db.select().from(commands).where(and(inArray(commands.deviceId, [...deviceIds]), notFinal)) : Promise.resolve([]),

    /** Commands of these devices still pending after `idleMs`: created elsewhere, their hint lost. */
    pendingOf: (deviceIds: readonly string[], idleMs: number) =>
      deviceIds.length
        ? db
            .select()
            .from(commands)
            .where(and(inArray(commands.deviceId, [...deviceIds]), eq(commands.state, 'pending'), sql`${commands.updatedAt} < now() - make_interval(secs => ${idleMs / 1000})`))
        : Promise.resolve([]),

    /** Those of these commands still open (created by another instance). */
    openByIds: (ids: readonly string[]) => (ids.length ? db.select().from(commands).where(and(inArray(commands.id, [...ids]), notFinal)) : Promise.resolve([])),

    /**
     * Cancels a command in the database, for one no tracker of this instance holds, or one with
     * its audit entry (`inTx`, run in the same transaction once the row is cancelled). Undefined:
     * no such command; `cancelled` null: it was final already (`before` says how).
     */
    async cancelStored(
      deviceId: string,
      id: string,
      at: Date,
      inTx?: (tx: Tx, cancelled: CommandRow) => Promise<unknown>,
    ): Promise<{ before: CommandRow; cancelled: CommandRow | null } | undefined> {
      return db.transaction(async (tx) => {
        const [before] = await tx.select().from(commands).where(and(eq(commands.id, id), eq(commands.deviceId, deviceId))).for('update');
        if (!before) return undefined;
        if (finalCommandStates.includes(before.state)) return { before, cancelled: null };
        const [cancelled] = await tx
          .update(commands)
          .set({ state: 'cancelled', finishedAt: at, updatedAt: at })
          .where(and(eq(commands.id, id), notFinal))
          .returning();
        if (cancelled) await inTx?.(tx, cancelled);
        return { before, cancelled: cancelled ?? null };
      });
    },

    /**
     * Expires open commands past their time by more than `graceMs`, a chunk at a time: those of
     * terminals no instance holds (a holder expires its own in memory within a second).
     * SKIP LOCKED: a row some writer holds is left for the next pass.
     */
    async expireOverdue(graceMs: number): Promise<CommandRow[]> {
      const due = db
        .select({ id: commands.id })
        .from(commands)
        .where(and(notFinal, sql`${commands.expiresAt} <= now() - make_interval(secs => ${graceMs / 1000})`))
        .limit(EXPIRY_CHUNK)
        .for('update', { skipLocked: true });
      return db
        .update(commands)
        .set({ state: 'expired', finishedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(inArray(commands.id, due), notFinal))
        .returning();
    },

    async get(deviceId: string, id: string): Promise<CommandRow | undefined> {
      const [row] = await db.select().from(commands).where(and(eq(commands.id, id), eq(commands.deviceId, deviceId))).limit(1);
      return row;
    },

    /** A device's commands, newest first, by (issuedAt, id) keyset. */
    async page(deviceId: string, limit: number, cursor?: string) {
      const after = cursor ? decodeTimeCursor(cursor) : undefined;
      const found = await db
        .select()
        .from(commands)
        .where(and(eq(commands.deviceId, deviceId), olderThan(commands.issuedAt, commands.id, after)))
        .orderBy(desc(commands.issuedAt), desc(commands.id))
        .limit(limit + 1);
      return newestFirstPage(found, limit, (c) => ({ at: c.issuedAt, id: c.id }));
    },

    /** The batch row as stored (its `createdAt` the database's). */
    async insertBatch(batch: typeof commandBatches.$inferInsert, tx: Tx) {
      const [row] = await tx.insert(commandBatches).values(batch).returning();
      return row!;
    },

    async batch(batchId: string) {
      const [batch] = await db.select().from(commandBatches).where(eq(commandBatches.id, batchId)).limit(1);
      return batch;
    },

    async batchCounts(batchId: string): Promise<Record<string, number>> {
      const grouped = await db
        .select({ state: commands.state, n: sql<number>`count(*)::int` })
        .from(commands)
        .where(eq(commands.batchId, batchId))
        .groupBy(commands.state);
      return Object.fromEntries(grouped.map((g) => [g.state, g.n]));
    },
  };
}

export type CommandStore = ReturnType<typeof createCommandStore>;
