// Commands to terminals: created here, delivered through the BullMQ `commands` queue, tracked
// in memory until final, written behind in batches. OTA, keys and binding reuse it.
import { randomBytes } from 'node:crypto';
import { and, desc, eq, notInArray, sql } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import { commandBatches, commands, finalCommandStates, type CommandRow, type CommandState } from '../../schemas/db.ts';
import type { AckMessage, CommandMessage, CommandType } from '../../schemas/wire.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { conflict, notFound } from '../errors.ts';
import { decodeTimeCursor, newestFirstPage, olderThan } from '../http/timeCursor.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { createBatcher } from '../db/batcher.ts';
import { abortRequest, isFinal, stateAfterAck, undeliveredStates } from './commandRules.ts';
import type { CommandPatch, CommandTracker } from './commandTracker.ts';

export const COMMAND_QUEUE = 'commands';
const DELIVERY_CHUNK = 500;
const INSERT_CHUNK = 1000;
const WRITE_CHUNK = 500;

interface DispatchJob {
  ids: string[];
}

export interface CommandServiceDeps {
  db: Db;
  tracker: CommandTracker;
  queues: JobQueues;
  broker: { isCommandReady(deviceId: string): boolean; sendCommand(deviceId: string, msg: CommandMessage): Promise<void> };
  timeline: TimelineWriter;
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  defaultTtlS: number;
  flushIntervalMs?: number;
}

export interface NewCommand {
  type: CommandType;
  payload?: Record<string, unknown>;
  ttlS?: number;
  createdBy: string | null;
}

export const newCommandId = () => `cmd_${randomBytes(12).toString('base64url')}`;

const wireMessage = (c: CommandRow): CommandMessage => ({
  id: c.id,
  type: c.type as CommandType,
  issuedAt: c.issuedAt.getTime(),
  ...(c.expiresAt ? { expiresAt: c.expiresAt.getTime() } : {}),
  payload: c.payload,
});

export function createCommandService(deps: CommandServiceDeps) {
  const { db, tracker, log } = deps;
  let queue: Queue<DispatchJob>;
  const timers: NodeJS.Timeout[] = [];
  let writing: Promise<void> | null = null;

  function transition(id: string, patch: CommandPatch): CommandRow | undefined {
    const before = tracker.get(id)?.state;
    const cmd = tracker.update(id, patch);
    if (!cmd) return undefined;
    if (patch.state && patch.state !== before) {
      deps.metrics.commandsByState.inc({ state: patch.state });
      if (!['queued', 'sent', 'received'].includes(patch.state)) {
        deps.timeline.add({
          deviceId: cmd.deviceId,
          kind: 'ack',
          summary: `${cmd.type} ${patch.state}${cmd.stage ? ` (${cmd.stage})` : ''}${cmd.error ? `: ${cmd.error.code}` : ''}`,
          data: { cmdId: id, state: patch.state, stage: cmd.stage, error: cmd.error },
        });
      }
    }
    deps.bus.emit('command.updated', {
      id,
      deviceId: cmd.deviceId,
      type: cmd.type,
      state: cmd.state,
      batchId: cmd.batchId,
      stage: cmd.stage,
      progress: cmd.progress,
      error: cmd.error,
      result: cmd.result,
    });
    return cmd;
  }

  function rows(deviceIds: string[], input: NewCommand, batchId: string | null): CommandRow[] {
    const now = new Date();
    const ttl = input.ttlS ?? deps.defaultTtlS;
    return deviceIds.map((deviceId) => ({
      id: newCommandId(),
      deviceId,
      batchId,
      type: input.type,
      payload: input.payload ?? {},
      state: 'pending' as CommandState,
      stage: null,
      progress: null,
      error: null,
      result: null,
      attempts: 0,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
      sentAt: null,
      finishedAt: null,
      createdBy: input.createdBy,
      updatedAt: now,
    }));
  }

  /**
   * Queues delivery without ever holding up the caller on Redis: the command is already stored,
   * and `redispatchStale` picks it up again if Redis was away.
   */
  async function enqueueSoon(ids: string[], dedupeKey?: string) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis did not answer within 2 s')), 2000);
    });
    try {
      await Promise.race([enqueue(ids, dedupeKey), timeout]);
    } catch (err) {
      log.warn({ err: (err as Error).message, commands: ids.length }, 'delivery not queued now; it will be retried');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Commands still pending after a while, or queued for a device that can receive: queue again. */
  function redispatchStale() {
    const cutoff = Date.now() - 10_000;
    const due: string[] = [];
    for (const cmd of tracker.open()) {
      // Only what has sat untouched for a while: fresh ones are in the hands of a queued job.
      const idle = cmd.updatedAt.getTime() < cutoff;
      const stuck = idle && cmd.state === 'pending';
      const reachable = idle && cmd.state === 'queued' && deps.broker.isCommandReady(cmd.deviceId);
      if (stuck || reachable) due.push(cmd.id);
    }
    if (due.length) void enqueueSoon(due, `redispatch:${Math.floor(Date.now() / 10_000)}`);
  }

  async function enqueue(ids: string[], dedupeKey?: string) {
    const jobs = [];
    for (let i = 0; i < ids.length; i += DELIVERY_CHUNK) {
      jobs.push({
        name: 'deliver',
        data: { ids: ids.slice(i, i + DELIVERY_CHUNK) },
        opts: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 500 },
          ...(dedupeKey ? { deduplication: { id: dedupeKey } } : {}),
        },
      });
    }
    if (jobs.length) await queue.addBulk(jobs);
  }

  /** The worker's job: send each command to its device if it is connected. */
  async function deliver(ids: string[]) {
    const now = Date.now();
    const failures: unknown[] = [];
    await Promise.all(
      ids.map(async (id) => {
        const cmd = tracker.get(id);
        if (!cmd || !undeliveredStates.includes(cmd.state)) return;
        if (cmd.expiresAt && cmd.expiresAt.getTime() <= now) {
          transition(id, { state: 'expired', finishedAt: new Date(now) });
          return;
        }
        // Connected is not enough: until the device holds its command subscription a publish
        // would go nowhere and the command would sit in `sent` forever.
        if (!deps.broker.isCommandReady(cmd.deviceId)) {
          if (cmd.state !== 'queued') transition(id, { state: 'queued' });
          return;
        }
        const stateBefore = cmd.state;
        try {
          await deps.broker.sendCommand(cmd.deviceId, wireMessage(cmd));
          const sent = { sentAt: new Date(), attempts: cmd.attempts + 1 };
          // An ack may already have overtaken the publish callback; never step back to `sent`.
          if (tracker.get(id)?.state === stateBefore) transition(id, { state: 'sent', ...sent });
          else tracker.update(id, sent);
        } catch (err) {
          failures.push(err);
        }
      }),
    );
    // Let BullMQ retry the job with backoff; delivered commands are skipped next time.
    if (failures.length) throw new Error(`${failures.length} of ${ids.length} commands could not be published`);
  }

  // Rows whose write failed; retried first next time. They are the tracker's own objects, so
  // they carry the newest state even if the command moved on meanwhile.
  let retry: CommandRow[] = [];

  async function writeChanges() {
    const fresh = tracker.takeChanges();
    const changes = retry.filter((c) => !fresh.has(c.id)).concat([...fresh.values()]);
    retry = [];
    for (let i = 0; i < changes.length; i += WRITE_CHUNK) {
      const chunk = changes.slice(i, i + WRITE_CHUNK);
      // One JSON parameter per chunk, as for inserts: ten bound parameters a row, built by the
      // query builder for thousands of rows, held the broker's thread during every fan-out.
      const rowsJson = JSON.stringify(
        chunk.map((c) => ({
          id: c.id,
          state: c.state,
          stage: c.stage,
          progress: c.progress,
          error: c.error ?? null,
          result: c.result ?? null,
          attempts: c.attempts,
          sent_at: c.sentAt?.toISOString() ?? null,
          finished_at: c.finishedAt?.toISOString() ?? null,
          updated_at: c.updatedAt.toISOString(),
        })),
      );
      const end = deps.metrics.dbFlushSeconds.startTimer({ table: 'commands' });
      try {
        await db.execute(sql`
          update ${commands} as c set
            state = v.state, stage = v.stage, progress = v.progress, error = v.error, result = v.result,
            attempts = v.attempts, sent_at = v.sent_at, finished_at = v.finished_at, updated_at = v.updated_at
          from jsonb_to_recordset(${rowsJson}::jsonb) as v(
            id text, state text, stage text, progress int, error jsonb, result jsonb, attempts int,
            sent_at timestamptz, finished_at timestamptz, updated_at timestamptz)
          where c.id = v.id`);
      } catch (err) {
        log.error({ err }, 'writing command changes failed; will retry');
        retry = changes.slice(i);
        throw err;
      } finally {
        end();
      }
    }
  }

  const flush = async () => {
    while (writing) await writing;
    writing = writeChanges()
      .catch(() => undefined)
      .finally(() => (writing = null));
    await writing;
  };

  function expireDue() {
    const now = Date.now();
    for (const cmd of [...tracker.open()]) {
      if (cmd.expiresAt && cmd.expiresAt.getTime() <= now && !isFinal(cmd.state)) {
        transition(cmd.id, { state: 'expired', finishedAt: new Date(now) });
      }
    }
  }

  /**
   * Stores a batch in one statement per 5,000 rows. The rows differ only in id and device, so
   * those travel as one JSON parameter instead of ten parameters a row: building and cloning
   * a 10,000-row insert would otherwise hold the broker's thread for most of a second.
   */
  /** Inserts commands as one JSON parameter per chunk: thousands of rows cost one statement each 1 000. */
  async function insertRows(list: readonly CommandRow[]) {
    for (let i = 0; i < list.length; i += INSERT_CHUNK) {
      const json = JSON.stringify(
        list.slice(i, i + INSERT_CHUNK).map((r) => ({
          id: r.id,
          device_id: r.deviceId,
          batch_id: r.batchId,
          type: r.type,
          payload: r.payload,
          issued_at: r.issuedAt.toISOString(),
          expires_at: r.expiresAt?.toISOString() ?? null,
          created_by: r.createdBy,
        })),
      );
      await db.execute(sql`
        insert into ${commands} (id, device_id, batch_id, type, payload, state, attempts, issued_at, expires_at, created_by, updated_at)
        select x.id, x.device_id, x.batch_id, x.type, x.payload, 'pending', 0, x.issued_at, x.expires_at, x.created_by, x.issued_at
        from jsonb_to_recordset(${json}::jsonb) as x(
          id text, device_id text, batch_id text, type text, payload jsonb, issued_at timestamptz, expires_at timestamptz, created_by text)`);
    }
  }

  // Campaigns create commands one device at a time, at fleet speed: calls made within a few
  // milliseconds share one insert and one enqueue. If the shared insert fails, each row is tried
  // alone, so one bad device fails only its own call.
  const insertCoalesced = createBatcher(
    async (list: CommandRow[]): Promise<(Error | null)[]> => {
      try {
        await insertRows(list);
        return list.map(() => null);
      } catch {
        return Promise.all(list.map((r) => insertRows([r]).then(() => null, (err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
      }
    },
    { max: INSERT_CHUNK, windowMs: 2 },
  );
  const enqueueCoalesced = createBatcher(
    async (ids: string[]) => {
      await enqueueSoon(ids);
      return ids.map(() => null);
    },
    { max: DELIVERY_CHUNK, windowMs: 2 },
  );

  const view = (c: CommandRow) => c;

  return {
    async start() {
      const open = await db.select().from(commands).where(notInArray(commands.state, [...finalCommandStates]));
      for (const c of open) tracker.add(c);
      queue = deps.queues.queue<DispatchJob>(COMMAND_QUEUE);
      deps.queues.worker<DispatchJob>(COMMAND_QUEUE, (job) => deliver(job.data.ids), { concurrency: 8 });
      timers.push(setInterval(() => void flush(), deps.flushIntervalMs ?? 200));
      timers.push(setInterval(expireDue, 1000));
      timers.push(setInterval(redispatchStale, 10_000));
      log.info({ open: open.length }, 'command tracker loaded');
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await flush();
    },
    flush,
    deliver,

    async create(deviceId: string, input: NewCommand): Promise<CommandRow> {
      const row = rows([deviceId], input, null)[0]!;
      const failed = await insertCoalesced(row);
      if (failed) throw failed;
      tracker.add(row);
      deps.metrics.commandsByState.inc({ state: 'pending' });
      deps.timeline.add({ deviceId, kind: 'command', summary: `${input.type} issued`, data: { cmdId: row.id, type: input.type, by: input.createdBy } });
      await enqueueCoalesced(row.id);
      return view(row);
    },

    /**
     * Stores and queues a batch chunk by chunk, so the first terminals have their command while
     * the last rows are still being written. If a chunk cannot be stored, the batch keeps what
     * was stored (and already sent) as its total, and the error goes to the caller.
     */
    async createBatch(deviceIds: string[], input: NewCommand): Promise<{ batchId: string; total: number; commandIds: string[] }> {
      const batchId = `bat_${randomBytes(12).toString('base64url')}`;
      const list = rows(deviceIds, input, batchId);
      await db.insert(commandBatches).values({ id: batchId, type: input.type, payload: input.payload ?? {}, total: list.length, createdBy: input.createdBy });
      tracker.startBatch(batchId, list.length);
      const queued: Promise<void>[] = [];
      for (let i = 0; i < list.length; i += INSERT_CHUNK) {
        const chunk = list.slice(i, i + INSERT_CHUNK);
        try {
          await insertRows(chunk);
        } catch (err) {
          await db.update(commandBatches).set({ total: i }).where(eq(commandBatches.id, batchId)).catch(() => undefined);
          await Promise.all(queued);
          throw err;
        }
        for (const r of chunk) {
          tracker.add(r);
          deps.timeline.add({ deviceId: r.deviceId, kind: 'command', summary: `${input.type} issued (batch)`, data: { cmdId: r.id, batchId } });
        }
        deps.metrics.commandsByState.inc({ state: 'pending' }, chunk.length);
        queued.push(enqueueSoon(chunk.map((r) => r.id)));
      }
      await Promise.all(queued);
      return { batchId, total: list.length, commandIds: list.map((r) => r.id) };
    },

    async get(deviceId: string, id: string): Promise<CommandRow> {
      const mem = tracker.get(id) ?? tracker.unwritten(id);
      if (mem && mem.deviceId === deviceId) return view(mem);
      const [row] = await db.select().from(commands).where(and(eq(commands.id, id), eq(commands.deviceId, deviceId))).limit(1);
      if (!row) throw notFound(`command ${id}`);
      return view(row);
    },

    async list(deviceId: string, limit: number, cursor?: string) {
      await flush();
      const after = cursor ? decodeTimeCursor(cursor) : undefined;
      const found = await db
        .select()
        .from(commands)
        .where(and(eq(commands.deviceId, deviceId), olderThan(commands.issuedAt, commands.id, after)))
        .orderBy(desc(commands.issuedAt), desc(commands.id))
        .limit(limit + 1);
      const page = newestFirstPage(found, limit, (c) => ({ at: c.issuedAt, id: c.id }));
      return { items: page.items.map((c) => tracker.get(c.id) ?? c), nextCursor: page.nextCursor };
    },

    async batchStatus(batchId: string) {
      const [batch] = await db.select().from(commandBatches).where(eq(commandBatches.id, batchId)).limit(1);
      if (!batch) throw notFound(`command batch ${batchId}`);
      let counts = tracker.batchCounts(batchId);
      if (!counts) {
        await flush();
        const grouped = await db
          .select({ state: commands.state, n: sql<number>`count(*)::int` })
          .from(commands)
          .where(eq(commands.batchId, batchId))
          .groupBy(commands.state);
        counts = Object.fromEntries(grouped.map((g) => [g.state, g.n]));
      }
      const clean = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
      return { id: batch.id, type: batch.type, total: batch.total, createdAt: batch.createdAt, createdBy: batch.createdBy, counts: clean };
    },

    async cancel(deviceId: string, id: string, opts: { abort?: boolean } = {}): Promise<CommandRow> {
      return (await this.cancelAndAbort(deviceId, id, opts)).command;
    },

    /**
     * Cancels a command. If the device may already be working on it (delivered, of a long-running
     * type: commandRules.abortRequest), also sends it a `cancel` command through the normal path,
     * so an offline device gets it when it is back; its acks say whether the device stopped.
     * `abort: false` only marks the command cancelled here (e.g. a timed-out device).
     */
    async cancelAndAbort(deviceId: string, id: string, opts: { abort?: boolean } = {}): Promise<{ command: CommandRow; abortId: string | null }> {
      const cmd = tracker.get(id);
      if (!cmd || cmd.deviceId !== deviceId) {
        const existing = await this.get(deviceId, id);
        throw conflict('command_final', `command ${id} is already ${existing.state}`);
      }
      const ask = opts.abort === false ? null : abortRequest(cmd, Date.now());
      const command = view(transition(id, { state: 'cancelled', finishedAt: new Date() })!);
      if (!ask) return { command, abortId: null };
      try {
        const abort = await this.create(deviceId, { type: 'cancel', payload: { cmdId: id }, ttlS: ask.ttlS, createdBy: cmd.createdBy });
        return { command, abortId: abort.id };
      } catch (err) {
        log.warn({ err, deviceId, cmdId: id }, 'could not ask the device to abort a cancelled command');
        return { command, abortId: null };
      }
    },

    onAck(deviceId: string, ack: AckMessage) {
      const cmd = tracker.get(ack.cmdId);
      if (!cmd) return; // finished already, or unknown: a late or duplicate ack changes nothing
      if (cmd.deviceId !== deviceId) {
        deps.timeline.addCoalesced(`${deviceId}:foreign_ack`, { deviceId, kind: 'security', summary: 'ack for another device\'s command ignored', data: { cmdId: ack.cmdId } });
        return;
      }
      const next = stateAfterAck(cmd.state, ack.state);
      const patch: CommandPatch = {};
      if (next) patch.state = next;
      if (ack.stage !== undefined) patch.stage = ack.stage;
      if (ack.progress !== undefined) patch.progress = Math.round(ack.progress);
      if (ack.error) patch.error = ack.error;
      if (ack.result) patch.result = ack.result;
      if (next && isFinal(next)) patch.finishedAt = new Date();
      if (next === 'succeeded') patch.progress = 100;
      if (Object.keys(patch).length) transition(cmd.id, patch);
    },

    /** A device can receive again: send what it has not confirmed receiving. */
    onCommandReady(deviceId: string) {
      const due = tracker.openFor(deviceId).filter((c) => undeliveredStates.includes(c.state));
      if (due.length) {
        void enqueueSoon(
          due.map((c) => c.id),
          `redeliver:${deviceId}:${due.map((c) => c.id).join(',')}`,
        );
      }
    },
  };
}

export type CommandService = ReturnType<typeof createCommandService>;
