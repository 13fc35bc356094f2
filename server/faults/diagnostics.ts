// Remote diagnostics: `diag.run` commands and their results (printer, readers, storage, network
// self-tests), kept per device. Results arrive as `command.updated` events and are written behind.
import { and, desc, eq, sql } from 'drizzle-orm';
import { decodeTimeCursor, newestFirstPage, olderThan } from '../http/timeCursor.ts';
import { selfTestComponents, type SelfTestComponent } from '../../schemas/commands.ts';
import { deviceDiagnostics, type DiagnosticsRow } from '../../schemas/tables/faults.ts';
import { finalCommandStates, type CommandRow } from '../../schemas/db.ts';
import type { CommandService, InCommandTx } from '../commands/commandService.ts';
import type { Db } from '../db/database.ts';
import { reportDropped } from '../core/droppedRows.ts';
import { createJsonBulkWriter } from '../core/jsonBulkWrite.ts';
import { serialWrites } from '../core/writeBehind.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus, LiveEvents } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

const WRITE_CHUNK = 1000;

export { selfTestComponents, type SelfTestComponent };

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** What a diagnostics entry looks like over the API. */
export function diagnosticsView(r: DiagnosticsRow) {
  const result = r.result ?? {};
  const components: Record<string, string> = {};
  for (const c of selfTestComponents) {
    const verdict = result[c];
    if (typeof verdict === 'string') components[c] = verdict;
  }
  const details = isObject(result.details) ? result.details : {};
  const tested = Object.values(components);
  return {
    cmdId: r.cmdId,
    deviceId: r.deviceId,
    state: r.state,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    components,
    details,
    /** true when every component tested passed; null until there is a result. */
    passed: tested.length ? tested.every((s) => s === 'pass') : null,
    error: r.error ?? null,
  };
}

export function createDiagnostics(deps: { db: Db; commands: Pick<CommandService, 'create'>; bus: EventBus; timeline: TimelineWriter; log: Logger; metrics: Metrics }) {
  const { db } = deps;
  const pending = new Map<string, typeof deviceDiagnostics.$inferInsert>();

  function onCommand(e: LiveEvents['command.updated']) {
    if (e.type !== 'diag.run') return;
    const final = finalCommandStates.includes(e.state);
    const prev = pending.get(e.id);
    // One clock read per answer: a fleet-wide diag.run brings thousands within a second.
    const at = new Date();
    pending.set(e.id, {
      cmdId: e.id,
      deviceId: e.deviceId,
      state: e.state,
      requestedAt: prev?.requestedAt ?? at,
      finishedAt: final ? at : null,
      result: e.result,
      error: e.error,
      updatedAt: at,
    });
    if (final) {
      const failed = e.result ? Object.entries(e.result).filter(([k, v]) => k !== 'details' && v === 'fail').map(([k]) => k) : [];
      deps.timeline.add({
        deviceId: e.deviceId,
        kind: 'diagnostics',
        summary: e.state !== 'succeeded' ? `diagnostics ${e.state}` : failed.length ? `diagnostics: ${failed.join(', ')} failed` : 'diagnostics: all passed',
        data: { cmdId: e.id, state: e.state, failed },
      });
    }
    deps.bus.emit('diagnostics.updated', { deviceId: e.deviceId, id: e.id, cmdId: e.id, state: e.state });
  }

  type PendingRow = typeof deviceDiagnostics.$inferInsert;

  // A fleet-wide `diag.run` brings thousands of results at once: one JSON parameter per chunk.
  // A finished row is never written over: in a cluster the instance that held the terminal
  // before it moved may flush its older, unfinished view after the new holder wrote the result.
  const rows = createJsonBulkWriter({
    db,
    columns: {
      cmd_id: 'text',
      device_id: 'text',
      state: 'text',
      requested_at: 'timestamptz',
      finished_at: 'timestamptz',
      result: 'jsonb',
      error: 'jsonb',
      updated_at: 'timestamptz',
    },
    chunkSize: WRITE_CHUNK,
    toRecord: (r: PendingRow) => ({
      cmd_id: r.cmdId,
      device_id: r.deviceId,
      state: r.state,
      requested_at: r.requestedAt,
      finished_at: r.finishedAt ?? null,
      result: r.result ?? null,
      error: r.error ?? null,
      updated_at: r.updatedAt ?? new Date(),
    }),
    statement: (x) => sql`
      insert into ${deviceDiagnostics} (cmd_id, device_id, state, requested_at, finished_at, result, error, updated_at)
      select x.cmd_id, x.device_id, x.state, x.requested_at, x.finished_at, x.result, x.error, x.updated_at
      from ${x}
      on conflict (cmd_id) do update set
        state = excluded.state,
        finished_at = coalesce(excluded.finished_at, ${deviceDiagnostics.finishedAt}),
        result = coalesce(excluded.result, ${deviceDiagnostics.result}),
        error = coalesce(excluded.error, ${deviceDiagnostics.error}),
        updated_at = excluded.updated_at
      where ${deviceDiagnostics.finishedAt} is null`,
  });

  async function writeOnce() {
    const batch = [...pending.values()];
    pending.clear();
    const outcome = await rows.writeBehind(batch);
    // A device deleted meanwhile, a result that cannot be stored: dropped alone, so they cannot hold up the rest.
    reportDropped(outcome.dropped, { buffer: 'diagnostics', key: (r) => r.cmdId, log: deps.log, metrics: deps.metrics });
    if (outcome.retry.length) {
      // The database away: keep what is left for the next flush, unless a newer update replaced it.
      deps.log.warn({ err: outcome.error }, 'writing diagnostics failed; will retry');
      for (const r of outcome.retry) if (!pending.has(r.cmdId)) pending.set(r.cmdId, r);
    }
  }
  const writes = serialWrites(writeOnce);
  const flush = () => writes.flush();

  return {
    start: () => deps.bus.on('command.updated', onCommand),
    flush,
    /** The timer's write: skipped while one is under way, so writes do not queue up behind a busy database. */
    tick: () => writes.tick().then(() => undefined),

    /** The command, its diagnostics row and `inTx` (the request's audit entry) commit together. */
    async request(deviceId: string, components: SelfTestComponent[] | undefined, by: string | null, ttlS?: number, inTx?: InCommandTx<CommandRow>) {
      const cmd = await deps.commands.create(deviceId, { type: 'diag.run', payload: components ? { components } : {}, ttlS, createdBy: by }, async (tx, row) => {
        await tx
          .insert(deviceDiagnostics)
          .values({ cmdId: row.id, deviceId, state: row.state, requestedBy: by, requestedAt: row.issuedAt })
          .onConflictDoUpdate({ target: deviceDiagnostics.cmdId, set: { requestedBy: by, requestedAt: row.issuedAt } });
        await inTx?.(tx, row);
      });
      return { cmd, row: { cmdId: cmd.id, deviceId, state: cmd.state, requestedBy: by, requestedAt: cmd.issuedAt, finishedAt: null, result: null, error: null, updatedAt: new Date() } };
    },

    async list(deviceId: string, limit: number, cursor?: string) {
      await flush();
      const before = cursor ? decodeTimeCursor(cursor) : undefined;
      const rows = await db
        .select()
        .from(deviceDiagnostics)
        .where(
          and(
            eq(deviceDiagnostics.deviceId, deviceId),
            olderThan(deviceDiagnostics.requestedAt, deviceDiagnostics.cmdId, before),
          ),
        )
        .orderBy(desc(deviceDiagnostics.requestedAt), desc(deviceDiagnostics.cmdId))
        .limit(limit + 1);
      const page = newestFirstPage(rows, limit, (r) => ({ at: r.requestedAt, id: r.cmdId }));
      return { items: page.items.map(diagnosticsView), nextCursor: page.nextCursor };
    },
  };
}

export type Diagnostics = ReturnType<typeof createDiagnostics>;
