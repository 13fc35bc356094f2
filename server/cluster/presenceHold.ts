// Who holds a terminal, decided when this instance's own connection of it opens or closes. A
// closing connection does not always mean the terminal went offline: after a takeover (the
// terminal reconnected to a peer) the peer's registry entry has replaced ours, so the terminal
// moved and stays online; only when the entry was still ours is it the offline path. A terminal
// that moves away takes its per-terminal state with it: modules drop their rule state
// (`onMoved`) and the command service lets its commands go to the new holder.
import type { PresenceNote } from '../../schemas/cluster.ts';
import type { Logger } from '../log.ts';
import type { HoldGate } from '../telemetry/ingest.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { TerminalRegistry } from './terminalRegistry.ts';

export interface PresenceHold extends HoldGate {
  isHeldHere(deviceId: string): boolean;
  holderOf(deviceId: string): string | undefined;
  /** The terminal is held by another instance now: drop what this one kept of it. */
  moved(deviceId: string): void;
  /** A peer says it holds a terminal this instance holds too: the registry decides who does. */
  contested(note: PresenceNote, from: string): void;
  /** Resolves once every close in flight has been decided (before the registry closes). */
  idle(): Promise<void>;
}

export interface PresenceHoldDeps {
  instanceId: string;
  live: LiveState;
  registry: TerminalRegistry;
  log: Logger;
  /** Every module's onMoved. */
  onMoved: (deviceId: string) => void;
  /** CommandService.release: write its pending command changes, forget its commands. */
  releaseCommands?: (deviceId: string) => Promise<void>;
}

export function createPresenceHold(deps: PresenceHoldDeps): PresenceHold {
  const { live, registry, log, instanceId } = deps;
  // Bumped by every local connect: a close answered after the terminal came back is stale.
  const epochs = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();

  function moved(deviceId: string) {
    try {
      deps.onMoved(deviceId);
    } catch (err) {
      log.error({ err, deviceId }, 'a module failed to drop a moved terminal');
    }
    deps.releaseCommands?.(deviceId).catch((err: unknown) => log.warn({ err, deviceId }, 'commands of a moved terminal not released'));
  }

  return {
    isHeldHere(deviceId) {
      const d = live.get(deviceId);
      return d?.holder === instanceId && d.connected;
    },
    holderOf: (deviceId) => live.get(deviceId)?.holder,
    moved,
    connected(deviceId) {
      epochs.set(deviceId, (epochs.get(deviceId) ?? 0) + 1);
      registry.hold(deviceId).catch((err: unknown) => log.warn({ err, deviceId }, 'terminal registry not written'));
    },
    disconnected(deviceId, offline) {
      const epoch = epochs.get(deviceId);
      const decide = (holder: string | null) => {
        if (epochs.get(deviceId) !== epoch) return; // connected here again meanwhile
        epochs.delete(deviceId);
        if (holder === null || holder === instanceId) return offline();
        if (live.get(deviceId)?.holder === holder) return; // the peer's note came first: already moved
        live.heldElsewhere(deviceId, holder);
        moved(deviceId);
      };
      const done = registry.release(deviceId).then(decide, (err: unknown) => {
        // Without Redis nobody can say it moved: a disconnect is an offline until it says more.
        log.warn({ err, deviceId }, 'terminal registry not read at disconnect');
        decide(null);
      });
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    },
    async idle() {
      await Promise.all([...inFlight]);
    },
    contested(note, from) {
      registry.holderOf(note.deviceId).then(
        (holder) => {
          // Our own entry is newer: the peer's note is of a connection that has already lost.
          if (holder === instanceId && live.get(note.deviceId)?.holder === instanceId) return;
          if (live.applyRemote(note, from, true) === 'taken') moved(note.deviceId);
        },
        (err: unknown) => log.warn({ err, deviceId: note.deviceId }, 'terminal registry not read for a contested terminal'),
      );
    },
  };
}
