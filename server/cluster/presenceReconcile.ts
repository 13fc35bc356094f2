// Pub/sub delivers at most once: a presence note lost while a link reconnected leaves a peer's
// terminal online (or offline) here until its holder says more, which for a terminal that left
// may be never. Every so often the registry, the truth of who holds what, corrects this
// instance's view of the terminals it does not hold itself: one held by nobody is offline, one
// held by a live peer is connected there. Nothing is marked dirty; only holders write rows.
import type { Logger } from '../log.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { InstanceRegistry } from './instances.ts';
import { noteOf } from './presenceShare.ts';
import type { TerminalRegistry } from './terminalRegistry.ts';

const EVERY_MS = 30_000;

export interface PresenceReconcile {
  /** One pass (the timer runs it every 30 s). */
  run(): Promise<void>;
  start(): void;
  stop(): void;
}

export function createPresenceReconcile(deps: {
  instanceId: string;
  live: LiveState;
  registry: Pick<TerminalRegistry, 'all'>;
  instances: Pick<InstanceRegistry, 'alive'>;
  log: Logger;
}): PresenceReconcile {
  const { live, instanceId } = deps;
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  async function reconcile() {
    if (running) return;
    running = true;
    try {
      // The view is noted before the registry is read: a note applied meanwhile is newer than
      // what the registry said, so an entry whose holder changed during the read is left alone.
      const before = new Map<string, string | undefined>();
      for (const d of live.all()) before.set(d.deviceId, d.holder);
      const [held, alive] = await Promise.all([deps.registry.all(), deps.instances.alive()]);
      const ids = new Set([...before.keys(), ...held.keys()]);
      for (const id of ids) {
        const d = live.get(id);
        if (d?.holder === instanceId || before.get(id) !== d?.holder) continue;
        const holder = held.get(id);
        const truth = holder !== undefined && holder !== instanceId && alive.has(holder) ? holder : undefined;
        if (truth === d?.holder) continue;
        const known = d
          ? noteOf(d)
          : { deviceId: id, online: false, connected: false, fwVersion: null, slot: null, lastSeenMs: Date.now() };
        if (truth !== undefined) live.applyRemote({ ...known, online: true, connected: true }, truth);
        else if (d?.holder !== undefined) live.applyRemote({ ...known, online: false, connected: false }, d.holder);
      }
    } finally {
      running = false;
    }
  }

  return {
    run: reconcile,
    start() {
      timer = setInterval(() => void reconcile().catch((err: unknown) => deps.log.warn({ err }, 'presence reconcile failed')), EVERY_MS);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
