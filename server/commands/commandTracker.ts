// Commands not yet finished, in memory: acks arrive at fleet scale and must not each wait on
// the database. Changes are collected and written behind in batches by the service.
import type { CommandRow, CommandState } from '../../schemas/db.ts';
import { isFinal } from './commandRules.ts';

export type TrackedCommand = CommandRow;
export type CommandPatch = Partial<Pick<CommandRow, 'state' | 'stage' | 'progress' | 'error' | 'result' | 'attempts' | 'sentAt' | 'finishedAt' | 'updatedAt'>>;

export interface CommandTracker {
  add(cmd: TrackedCommand): void;
  get(id: string): TrackedCommand | undefined;
  openFor(deviceId: string): TrackedCommand[];
  open(): IterableIterator<TrackedCommand>;
  /** Applies a change, counts it for its batch, queues it for writing; returns the new row. */
  update(id: string, patch: CommandPatch): TrackedCommand | undefined;
  takeChanges(): Map<string, TrackedCommand>;
  /** A change not yet written (a just-finished command is no longer open but not yet stored). */
  unwritten(id: string): TrackedCommand | undefined;
  /** Counts by state of a batch this process created, or undefined. */
  batchCounts(batchId: string): Record<string, number> | undefined;
  /**
   * Counts a batch this process just stored: all `total` commands pending, before any of them is
   * added (a fleet-wide batch is added chunk by chunk, and its counts must add up meanwhile).
   * Adding its commands does not count them again; their transitions do.
   */
  startBatch(batchId: string, total: number): void;
  size(): number;
  /** Devices with open commands here. */
  devices(): IterableIterator<string>;
  /**
   * Forgets a device's open commands (its terminal is held by another instance now) and returns
   * them; their changes not yet written stay queued for writing.
   */
  release(deviceId: string): TrackedCommand[];
  /** Forgets one command another instance finished in the database; nothing is written for it. */
  drop(id: string): TrackedCommand | undefined;
}

export function createCommandTracker(): CommandTracker {
  const open = new Map<string, TrackedCommand>();
  const byDevice = new Map<string, Set<string>>();
  const changed = new Map<string, TrackedCommand>();
  const batches = new Map<string, Record<string, number>>();

  const count = (batchId: string | null, from: CommandState, to: CommandState) => {
    const counts = batchId ? batches.get(batchId) : undefined;
    if (!counts) return;
    counts[from] = (counts[from] ?? 1) - 1;
    counts[to] = (counts[to] ?? 0) + 1;
  };

  const forget = (cmd: TrackedCommand) => {
    open.delete(cmd.id);
    const set = byDevice.get(cmd.deviceId);
    set?.delete(cmd.id);
    if (set && !set.size) byDevice.delete(cmd.deviceId);
  };

  return {
    add(cmd) {
      open.set(cmd.id, cmd);
      let set = byDevice.get(cmd.deviceId);
      if (!set) byDevice.set(cmd.deviceId, (set = new Set()));
      set.add(cmd.id);
    },
    get: (id) => open.get(id),
    openFor(deviceId) {
      const ids = byDevice.get(deviceId);
      return ids ? [...ids].map((id) => open.get(id)!).filter(Boolean) : [];
    },
    open: () => open.values(),
    update(id, patch) {
      const cmd = open.get(id);
      if (!cmd) return undefined;
      const from = cmd.state;
      Object.assign(cmd, patch);
      cmd.updatedAt = new Date();
      if (patch.state && patch.state !== from) count(cmd.batchId, from, patch.state);
      changed.set(id, cmd);
      if (isFinal(cmd.state)) forget(cmd);
      return cmd;
    },
    takeChanges() {
      const out = new Map(changed);
      changed.clear();
      return out;
    },
    unwritten: (id) => changed.get(id),
    batchCounts: (batchId) => batches.get(batchId),
    startBatch(batchId, total) {
      if (!batches.has(batchId)) batches.set(batchId, { pending: total });
      // Batches are kept for status queries; cap memory by dropping the oldest.
      if (batches.size > 1000) batches.delete(batches.keys().next().value!);
    },
    size: () => open.size,
    devices: () => byDevice.keys(),
    release(deviceId) {
      const out = [...(byDevice.get(deviceId) ?? [])].map((id) => open.get(id)).filter((c) => c !== undefined);
      for (const cmd of out) forget(cmd);
      return out;
    },
    drop(id) {
      const cmd = open.get(id);
      if (!cmd) return undefined;
      forget(cmd);
      changed.delete(id);
      return cmd;
    },
  };
}
