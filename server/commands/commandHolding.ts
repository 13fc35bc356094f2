// In a cluster the tracker of an instance holds the open commands of the terminals it holds
// (docs/cluster.md), and this is how they come and go: a terminal taken in gets its open commands
// loaded from the database, commands created or cancelled on a peer arrive as hints on the
// `commands` channel (the rows in PostgreSQL are the truth), and a terminal held elsewhere now is
// let go with its pending changes written.
import type { CommandRow } from '../../schemas/db.ts';
import type { AckMessage } from '../../schemas/wire.ts';
import type { ClusterLink } from '../cluster/clusterLink.ts';
import { createBatcher } from '../db/batcher.ts';
import type { Logger } from '../log.ts';
import type { CommandDelivery } from './commandDelivery.ts';
import { heldStates } from './commandRules.ts';
import type { CommandStore } from './commandStore.ts';
import type { CommandTracker } from './commandTracker.ts';

export interface CommandHoldingDeps {
  tracker: CommandTracker;
  store: Pick<CommandStore, 'openOf' | 'openByIds' | 'pendingOf'>;
  delivery: Pick<CommandDelivery, 'enqueueSoon' | 'onCommandReady' | 'remind'>;
  link: Pick<ClusterLink, 'on'>;
  heldHere(deviceId: string): boolean;
  /** Connected here and holding its command subscription (the broker's). */
  isCommandReady(deviceId: string): boolean;
  /** Writes the tracker's pending changes (the service's write-behind). */
  flush(): Promise<void>;
  /** Applies an ack to a command the tracker holds (the service's rules). */
  applyAck(deviceId: string, ack: AckMessage): void;
  log: Logger;
}

// A fleet reconnecting at once (an instance restarted, a network back) is one query per 500
// terminals, not one each.
const LOAD_WINDOW_MS = 10;
const ADOPT_MAX = 500;
const CREATED_MAX = 1000;
const RETRY_MS = 2_000;
/** Acks kept per terminal while its commands load; an agent's outbox replays a few at connect. */
const WAITING_ACKS_MAX = 100;
/**
 * How long a command finished here is remembered: a load from the database that raced the write
 * of its final state must not bring it back as open.
 */
const FINISHED_MEMORY_MS = 60_000;
/** A command still pending this long was not loaded by its holder: its `created` hint was lost. */
const LOST_HINT_MS = 10_000;
const RECONCILE_CHUNK = 1000;

export function createCommandHolding(deps: CommandHoldingDeps) {
  const { tracker, heldHere, log } = deps;
  const finished = new Map<string, number>();
  const adopting = new Map<string, Promise<void>>();
  /** Terminals whose commands were loaded here, while they stay held here. */
  const adopted = new Set<string>();
  /** Per terminal being loaded: the commands it holds by the stored state. */
  const toRemind = new Map<string, string[]>();
  const waitingAcks = new Map<string, AckMessage[]>();
  const unsubscribe: (() => void)[] = [];
  // Deleted first so the map stays in time order (sweep stops at the first recent entry).
  const remember = (id: string) => {
    finished.delete(id);
    finished.set(id, Date.now());
  };

  /** Tracks the rows not tracked yet whose terminal is held here; returns those. */
  function take(rows: readonly CommandRow[]): CommandRow[] {
    const added: CommandRow[] = [];
    for (const row of rows) {
      if (tracker.get(row.id) || finished.has(row.id) || !heldHere(row.deviceId)) continue;
      tracker.add(row);
      added.push(row);
    }
    return added;
  }

  // What this instance changed is written first, so a terminal that left and came back here
  // loads its commands as this instance last saw them.
  const loadDevices = createBatcher(
    async (deviceIds: string[]) => {
      await deps.flush();
      for (const row of take(await deps.store.openOf([...new Set(deviceIds)]))) {
        if (heldStates.includes(row.state)) toRemind.set(row.deviceId, [...(toRemind.get(row.deviceId) ?? []), row.id]);
      }
      return deviceIds.map(() => null);
    },
    { max: ADOPT_MAX, windowMs: LOAD_WINDOW_MS },
  );

  // A failed load is logged once for its batch; the commands reach their terminal at its next
  // connect, or expire.
  const loadCreated = createBatcher(
    async (ids: string[]) => {
      try {
        // A terminal not ready yet, or whose commands are loading, gets these with the rest once
        // it is: two jobs would each publish the command (a first attempt sends a `sent` one again).
        const due = take(await deps.store.openByIds(ids)).filter((c) => deps.isCommandReady(c.deviceId) && !adopting.has(c.deviceId));
        if (due.length) await deps.delivery.enqueueSoon(due.map((c) => c.id));
      } catch (err) {
        log.warn({ err, commands: ids.length }, 'could not load commands created elsewhere');
      }
      return ids.map(() => null);
    },
    { max: CREATED_MAX, windowMs: LOAD_WINDOW_MS },
  );

  function replayAcks(deviceId: string) {
    const acks = waitingAcks.get(deviceId);
    waitingAcks.delete(deviceId);
    for (const ack of acks ?? []) deps.applyAck(deviceId, ack);
  }

  /**
   * A terminal is ready for commands here: its open commands are loaded (those created anywhere
   * while it was away), acks it sent meanwhile applied, and what it has not received sent.
   */
  function adopt(deviceId: string): Promise<void> {
    const running = adopting.get(deviceId);
    if (running) return running;
    const done = loadDevices(deviceId).then(
      () => {
        adopting.delete(deviceId);
        replayAcks(deviceId);
        const remind = toRemind.get(deviceId) ?? [];
        toRemind.delete(deviceId);
        if (!heldHere(deviceId)) return;
        adopted.add(deviceId);
        deps.delivery.onCommandReady(deviceId);
        // What the stored state says the terminal holds: a final answer lost with an instance
        // that died comes back, since the agent repeats it (agent/dispatcher.ts).
        const stillHeld = remind.filter((id) => heldStates.some((s) => tracker.get(id)?.state === s));
        if (stillHeld.length) void deps.delivery.remind(stillHeld);
      },
      (err: unknown) => {
        adopting.delete(deviceId);
        toRemind.delete(deviceId);
        waitingAcks.delete(deviceId);
        log.warn({ err, deviceId }, 'could not load the open commands of a terminal; trying again');
        setTimeout(() => void (heldHere(deviceId) && adopt(deviceId)), RETRY_MS).unref();
      },
    );
    adopting.set(deviceId, done);
    return done;
  }

  return {
    adopt,

    /** The terminal's commands are being loaded: whatever is added now is sent with them. */
    loading: (deviceId: string) => adopting.has(deviceId),

    /**
     * An ack for a command the tracker does not hold: the terminal's commands may still be
     * loading (an agent replays its outbox right after connecting), so it waits for the load.
     */
    untrackedAck(deviceId: string, ack: AckMessage) {
      if (finished.has(ack.cmdId) || !heldHere(deviceId)) return; // late or duplicate
      let list = waitingAcks.get(deviceId);
      if (!list) waitingAcks.set(deviceId, (list = []));
      if (list.length < WAITING_ACKS_MAX) list.push(ack);
      void adopt(deviceId);
    },

    /** A command of this tracker became final. */
    finished: remember,

    /** Writes a terminal's pending command changes and forgets its commands: another instance holds it now. */
    async release(deviceId: string): Promise<void> {
      waitingAcks.delete(deviceId);
      adopted.delete(deviceId);
      if (tracker.release(deviceId).length) await deps.flush();
    },

    /** Lets go of terminals no longer held here (they left or moved); forgets old finished ids. */
    sweep() {
      let released = 0;
      for (const deviceId of [...tracker.devices()]) {
        if (!heldHere(deviceId)) released += tracker.release(deviceId).length;
      }
      for (const deviceId of adopted) if (!heldHere(deviceId)) adopted.delete(deviceId);
      if (released) void deps.flush();
      const cutoff = Date.now() - FINISHED_MEMORY_MS;
      for (const [id, at] of finished) {
        if (at > cutoff) break; // insertion order is time order
        finished.delete(id);
      }
    },

    /**
     * Pub/sub delivers a hint at most once: commands created elsewhere for terminals held here
     * and still pending after a while are loaded and sent now.
     */
    async reconcile() {
      const held = [...adopted];
      for (let i = 0; i < held.length; i += RECONCILE_CHUNK) {
        const due = take(await deps.store.pendingOf(held.slice(i, i + RECONCILE_CHUNK), LOST_HINT_MS)).filter((c) =>
          deps.isCommandReady(c.deviceId),
        );
        if (due.length) {
          log.warn({ commands: due.length }, 'commands created elsewhere found without their hint');
          await deps.delivery.enqueueSoon(due.map((c) => c.id));
        }
      }
    },

    start() {
      unsubscribe.push(
        deps.link.on('commands', (msg) => {
          if (msg.kind === 'created') {
            for (const c of msg.commands) {
              if (deps.isCommandReady(c.deviceId) && !tracker.get(c.id)) void loadCreated(c.id);
            }
            return;
          }
          // Cancelled in the database by a peer, which announced it: only forget it here.
          for (const id of msg.ids) if (tracker.drop(id)) remember(id);
        }),
      );
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
    },
  };
}

export type CommandHolding = ReturnType<typeof createCommandHolding>;
