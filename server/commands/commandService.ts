// Commands to terminals, the API the routes and the domain modules use: create (one or a batch),
// read, cancel, and acks. A command is stored, tracked in memory until final and written behind
// (commandStore.ts); commandDelivery.ts gets it to the terminal. OTA, keys and binding reuse it.
// In a cluster only the instance holding a terminal tracks and delivers its commands
// (commandHolding.ts); any instance creates, reads and cancels them through the database.
import type { CommandRow, CommandState } from '../../schemas/db.ts';
import type { AckMessage, CommandType } from '../../schemas/wire.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transaction.ts';
import { pendingCommandRows, type NewCommand } from './commandRows.ts';
import { serialWrites } from '../core/writeBehind.ts';
import { createBatcher } from '../db/batcher.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { conflict, notFound } from '../errors.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { commandQueueName, createCommandDelivery, DELIVERY_CHUNK, type CommandBroker } from './commandDelivery.ts';
import { createCommandHolding } from './commandHolding.ts';
import { abortRequest, isFinal, patchAfterAck } from './commandRules.ts';
import { createCommandStore, INSERT_CHUNK } from './commandStore.ts';
import type { CommandPatch, CommandTracker } from './commandTracker.ts';

export { newCommandId, pendingCommandRows, type NewCommand } from './commandRows.ts';
import { createOrphanExpiry, ORPHAN_EXPIRY_PERIOD_MS } from './orphanExpiry.ts';
import { createStartReminders } from './startReminders.ts';
import { createBatchMemory } from './batchMemory.ts';
import { createAnnounce } from './commandAnnounce.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface CommandServiceDeps {
  db: Db;
  tracker: CommandTracker;
  queues: JobQueues;
  broker: CommandBroker;
  timeline: TimelineWriter;
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  defaultTtlS: number;
  flushIntervalMs?: number;
  /** This instance and its peers (server/cluster/cluster.ts); alone when absent or not clustered. */
  cluster?: Pick<Cluster, 'clustered' | 'instanceId' | 'link' | 'instances'>;
  /** In a cluster: whether this instance holds the terminal's connection, and so tracks and delivers its commands. */
  heldHere?: (deviceId: string) => boolean;
}


/** What a caller writes in the transaction that stores new commands (its audit entry), given what was created. */
export type InCommandTx<C> = (tx: Tx, created: C) => Promise<unknown>;

/** In a cluster: how often a holder looks for commands whose `created` hint it missed. */
const RECONCILE_MS = 30_000;


export function createCommandService(deps: CommandServiceDeps) {
  const { tracker, log } = deps;
  deps.metrics.watchBuffer('commands_open', tracker.size);
  const store = createCommandStore(deps);
  const timers: NodeJS.Timeout[] = [];
  const batches = createBatchMemory();
  const cluster = deps.cluster?.clustered ? deps.cluster : undefined;
  const heldHere = deps.heldHere ?? (() => true);

  const announce = createAnnounce(deps);

  function transition(id: string, patch: CommandPatch): CommandRow | undefined {
    const before = tracker.get(id)?.state;
    const cmd = tracker.update(id, patch);
    if (!cmd) return undefined;
    announce(cmd, patch.state && patch.state !== before ? patch.state : undefined);
    if (isFinal(cmd.state)) holding?.finished(id);
    return cmd;
  }

  const delivery = createCommandDelivery({
    queues: deps.queues,
    tracker,
    broker: deps.broker,
    log,
    transition,
    ...(cluster ? { queueName: commandQueueName(cluster) } : {}),
  });

  const rows = <T extends CommandType>(deviceIds: string[], input: NewCommand<T>, batchId: string | null) =>
    pendingCommandRows(deviceIds, input, { batchId, defaultTtlS: deps.defaultTtlS, now: new Date() });

  // A failed write is logged by the store and retried with the next one.
  const changeWrites = serialWrites(() => store.writeChanges(tracker.takeChanges()).catch(() => undefined));
  const flush = () => changeWrites.flush();

  const reminders = createStartReminders({ remind: delivery.remind, stateOf: (id) => tracker.get(id)?.state });
  const holding = cluster
    ? createCommandHolding({ tracker, store, delivery, link: cluster.link, heldHere, isCommandReady: deps.broker.isCommandReady, flush, applyAck, log })
    : undefined;
  const expireOrphans = cluster
    ? createOrphanExpiry({
        store,
        instances: cluster.instances,
        log,
        expired(list) {
          for (const row of list) {
            // Tracked here but past the grace: this instance's own expiry did not get it written.
            if (tracker.drop(row.id)) holding?.finished(row.id);
            announce(row, 'expired');
          }
        },
      })
    : undefined;
  // Commands created in one burst for terminals held elsewhere: one hint per burst.
  const announceCreated = createBatcher(
    async (commands: { id: string; deviceId: string }[]) => {
      cluster?.link.publish('commands', { kind: 'created', commands });
      return commands.map(() => null);
    },
    { max: INSERT_CHUNK, windowMs: 2 },
  );

  function expireDue() {
    const now = Date.now();
    for (const cmd of [...tracker.open()]) {
      if (cmd.expiresAt && cmd.expiresAt.getTime() <= now && !isFinal(cmd.state)) {
        transition(cmd.id, { state: 'expired', finishedAt: new Date(now) });
      }
    }
  }

  // Campaigns create commands one device at a time, at fleet speed: calls made within a few
  // milliseconds share one insert and one enqueue. If the shared insert fails, each row is tried
  // alone, so one bad device fails only its own call.
  const insertCoalesced = createBatcher(
    async (list: CommandRow[]): Promise<(Error | null)[]> => {
      try {
        await store.insert(list);
        return list.map(() => null);
      } catch {
        return Promise.all(list.map((r) => store.insert([r]).then(() => null, (err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
      }
    },
    { max: INSERT_CHUNK, windowMs: 2 },
  );
  const enqueueCoalesced = createBatcher(
    async (ids: string[]) => {
      await delivery.enqueueSoon(ids);
      return ids.map(() => null);
    },
    { max: DELIVERY_CHUNK, windowMs: 2 },
  );

  async function get(deviceId: string, id: string): Promise<CommandRow> {
    const mem = tracker.get(id) ?? tracker.unwritten(id);
    if (mem && mem.deviceId === deviceId) return mem;
    const row = await store.get(deviceId, id);
    if (!row) throw notFound(`command ${id}`);
    return row;
  }

  /**
   * `inTx` (the request's audit entry) runs in the insert's transaction: both commit or neither.
   * Without it, calls made within a few milliseconds share one insert (campaigns, modules).
   */
  async function create<T extends CommandType>(deviceId: string, input: NewCommand<T>, inTx?: InCommandTx<CommandRow>): Promise<CommandRow> {
    const row = rows([deviceId], input, null)[0]!;
    if (inTx) {
      await deps.db.transaction(async (tx) => {
        await store.insert([row], tx);
        await inTx(tx, row);
      });
    } else {
      const failed = await insertCoalesced(row);
      if (failed) throw failed;
    }
    // Checked once the row is stored: a terminal connecting here from now on loads it itself.
    const here = !cluster || heldHere(deviceId);
    if (here) tracker.add(row);
    deps.metrics.commandsByState.inc({ state: 'pending' });
    deps.timeline.add({ deviceId, kind: 'command', summary: `${input.type} issued`, data: { cmdId: row.id, type: input.type, by: input.createdBy } });
    if (!here) void announceCreated({ id: row.id, deviceId });
    else if (!holding?.loading(deviceId)) await enqueueCoalesced(row.id); // else sent with the loaded ones
    return row;
  }

  function applyAck(deviceId: string, ack: AckMessage) {
    const cmd = tracker.get(ack.cmdId);
    if (!cmd) return; // finished already, or unknown: a late or duplicate ack changes nothing
    if (cmd.deviceId !== deviceId) {
      deps.timeline.addCoalesced(`${deviceId}:foreign_ack`, { deviceId, kind: 'security', summary: 'ack for another device\'s command ignored', data: { cmdId: ack.cmdId } });
      return;
    }
    const patch = patchAfterAck(cmd.state, ack);
    if (Object.keys(patch).length) transition(cmd.id, patch);
  }

  async function askAbort(deviceId: string, id: string, ask: { ttlS: number } | null, createdBy: string | null): Promise<string | null> {
    if (!ask) return null;
    try {
      return (await create(deviceId, { type: 'cancel', payload: { cmdId: id }, ttlS: ask.ttlS, createdBy })).id;
    } catch (err) {
      log.warn({ err, deviceId, cmdId: id }, 'could not ask the device to abort a cancelled command');
      return null;
    }
  }

  /**
   * A cancel the database decides (a final row stays as it is): with its audit entry (`inTx`), in
   * the entry's transaction, so a refused entry leaves the command as it was; or, in a cluster, of
   * a command this tracker does not hold, whose holder is told to forget it. What this instance
   * changed is written first; the tracker follows the commit and the abort request goes out after
   * it, judged by the tracked state or else the stored one (up to one write-behind interval behind
   * the holder's).
   */
  async function cancelInStore(
    deviceId: string,
    id: string,
    opts: { abort?: boolean },
    inTx?: InCommandTx<CommandRow>,
  ): Promise<{ command: CommandRow; abortId: string | null }> {
    const tracked = tracker.get(id);
    const mine = tracked?.deviceId === deviceId ? tracked : undefined;
    await flush();
    const at = new Date();
    const outcome = await store.cancelStored(deviceId, id, at, inTx);
    if (!outcome) throw notFound(`command ${id}`);
    if (!outcome.cancelled) throw conflict('command_final', `command ${id} is already ${outcome.before.state}`);
    const before = mine ?? outcome.before;
    let command = outcome.cancelled;
    if (mine && !isFinal(mine.state)) command = transition(id, { state: 'cancelled', finishedAt: at }) ?? command;
    else {
      announce(command, 'cancelled');
      cluster?.link.publish('commands', { kind: 'cancelled', ids: [id] });
    }
    const ask = opts.abort === false ? null : abortRequest(before, at.getTime());
    return { command, abortId: await askAbort(deviceId, id, ask, before.createdBy) };
  }

  /**
   * Cancels a command. If the device may already be working on it (delivered, of a long-running
   * type: commandRules.abortRequest), also sends it a `cancel` command through the normal path,
   * so an offline device gets it when it is back; its acks say whether the device stopped.
   * `abort: false` only marks the command cancelled here (e.g. a timed-out device).
   */
  async function cancelAndAbort(deviceId: string, id: string, opts: { abort?: boolean } = {}): Promise<{ command: CommandRow; abortId: string | null }> {
    const cmd = tracker.get(id);
    if (!cmd || cmd.deviceId !== deviceId) {
      if (cluster) return cancelInStore(deviceId, id, opts);
      const existing = await get(deviceId, id);
      throw conflict('command_final', `command ${id} is already ${existing.state}`);
    }
    const ask = opts.abort === false ? null : abortRequest(cmd, Date.now());
    const command = transition(id, { state: 'cancelled', finishedAt: new Date() })!;
    return { command, abortId: await askAbort(deviceId, id, ask, cmd.createdBy) };
  }

  return {
    async start() {
      // In a cluster nothing is loaded up front: each terminal's commands come with it (adopt).
      if (!holding) {
        const open = await store.open();
        for (const c of open) tracker.add(c);
        reminders.loaded(open);
        log.info({ open: open.length }, 'command tracker loaded');
      }
      holding?.start();
      delivery.start();
      // A tick, not a flush: when a write outlasts the interval (the database busy under a fleet
      // command) the next one waits for the tick after, instead of queueing writes behind it.
      timers.push(setInterval(() => void changeWrites.tick(), deps.flushIntervalMs ?? 200));
      timers.push(
        setInterval(() => {
          expireDue();
          holding?.sweep();
        }, 1000),
      );
      timers.push(setInterval(delivery.redispatchStale, 10_000));
      if (holding) timers.push(setInterval(() => void holding.reconcile().catch((err: unknown) => log.warn({ err }, 'looking for commands without their hint failed')), RECONCILE_MS));
      if (expireOrphans) timers.push(setInterval(() => void expireOrphans(), ORPHAN_EXPIRY_PERIOD_MS));
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      holding?.stop();
      await flush();
    },

    /**
     * In a cluster: the terminal is held by another instance now (it moved); its pending command
     * changes are written and its commands leave this tracker. Nothing to do alone.
     */
    async release(deviceId: string): Promise<void> {
      await holding?.release(deviceId);
    },
    flush,
    deliver: delivery.deliver,
    create,

    /**
     * Stores a batch in one transaction (with `inTx`, the request's audit entry): the batch and
     * every command of it commit together or not at all, and nothing is sent before the commit.
     * Then tracked and sent chunk by chunk (commandDelivery.deliverNow, not through the queue),
     * so the first terminals have their command while the last are still being tracked; the
     * answer does not wait for the sends.
     */
    async createBatch<T extends CommandType>(
      deviceIds: string[],
      input: NewCommand<T>,
      inTx?: InCommandTx<{ batchId: string; total: number }>,
    ): Promise<{ batchId: string; total: number; commandIds: string[] }> {
      const batchId = newId('bat');
      const list = rows(deviceIds, input, batchId);
      const created = { batchId, total: list.length };
      const batch = await deps.db.transaction(async (tx) => {
        const stored = await store.insertBatch({ id: batchId, type: input.type, payload: input.payload ?? {}, total: list.length, createdBy: input.createdBy }, tx);
        await store.insertShared(list, tx);
        await inTx?.(tx, created);
        return stored;
      });
      // In a cluster the counts come from the database: this tracker sees only its own terminals.
      if (!cluster) {
        tracker.startBatch(batchId, list.length);
        batches.keep(batch);
      }
      // The chunks are sent one after the other: sent side by side, ten chunks put a thousand
      // publishes in every turn of the event loop, ahead of the acks coming back.
      let sending = Promise.resolve();
      for (let i = 0; i < list.length; i += INSERT_CHUNK) {
        // One chunk a turn: a fleet of 10,000 tracked, put on the timeline and sent in one go
        // held the broker's thread (and every terminal's message) for that whole time.
        if (i) await nextTurn();
        const chunk = list.slice(i, i + INSERT_CHUNK);
        const here: string[] = [];
        const elsewhere: { id: string; deviceId: string }[] = [];
        for (const r of chunk) {
          if (!cluster || heldHere(r.deviceId)) {
            tracker.add(r);
            if (!holding?.loading(r.deviceId)) here.push(r.id);
          } else elsewhere.push({ id: r.id, deviceId: r.deviceId });
          deps.timeline.add({ deviceId: r.deviceId, kind: 'command', summary: `${input.type} issued (batch)`, data: { cmdId: r.id, batchId } });
        }
        deps.metrics.commandsByState.inc({ state: 'pending' }, chunk.length);
        if (here.length) sending = sending.then(() => delivery.deliverNow(here));
        if (elsewhere.length) cluster?.link.publish('commands', { kind: 'created', commands: elsewhere });
      }
      return { ...created, commandIds: list.map((r) => r.id) };
    },

    get,

    async list(deviceId: string, limit: number, cursor?: string) {
      await flush();
      const page = await store.page(deviceId, limit, cursor);
      return { items: page.items.map((c) => tracker.get(c.id) ?? c), nextCursor: page.nextCursor };
    },

    async batchStatus(batchId: string) {
      // A batch row never changes: one created here is answered from memory, so polling a
      // fleet-wide command's progress does not queue behind its own writes to the database.
      const batch = (cluster ? undefined : batches.get(batchId)) ?? (await store.batch(batchId));
      if (!batch) throw notFound(`command batch ${batchId}`);
      let counts = cluster ? undefined : tracker.batchCounts(batchId);
      if (!counts) {
        await flush();
        counts = await store.batchCounts(batchId);
      }
      const clean = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
      return { id: batch.id, type: batch.type, total: batch.total, createdAt: batch.createdAt, createdBy: batch.createdBy, counts: clean };
    },

    /** With `inTx` (the request's audit entry), the cancel is stored with it: both or neither. */
    async cancel(deviceId: string, id: string, opts: { abort?: boolean } = {}, inTx?: InCommandTx<CommandRow>): Promise<CommandRow> {
      return (await (inTx ? cancelInStore(deviceId, id, opts, inTx) : cancelAndAbort(deviceId, id, opts))).command;
    },
    cancelAndAbort,

    onAck(deviceId: string, ack: AckMessage) {
      // In a cluster an unknown command may be one whose terminal's commands are still loading.
      if (holding && !tracker.get(ack.cmdId)) return holding.untrackedAck(deviceId, ack);
      applyAck(deviceId, ack);
    },

    /** The terminal holds its command subscription here: in a cluster its commands are loaded first. */
    onCommandReady: holding
      ? (deviceId: string) => void holding.adopt(deviceId)
      : (deviceId: string) => {
          delivery.onCommandReady(deviceId);
          reminders.ready(deviceId);
        },
  };
}

export type CommandService = ReturnType<typeof createCommandService>;
