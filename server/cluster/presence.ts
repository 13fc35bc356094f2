// Presence across a cluster, as one part of the server: the terminal registry, presence notes to
// and from peers, the decision at each local connect and close (moved or offline), and the
// clean-up after a dead instance (docs/cluster.md). A single instance gets the solo part: every
// terminal it knows is its own, nothing is shared, ingest runs as it always did.
import type { Logger } from '../log.ts';
import type { HoldGate } from '../telemetry/ingest.ts';
import type { LiveState, PresenceChange } from '../telemetry/liveState.ts';
import type { Cluster } from './cluster.ts';
import { createPresenceHold } from './presenceHold.ts';
import { createPresenceReconcile } from './presenceReconcile.ts';
import { createPresenceReaper } from './presenceReaper.ts';
import { createPresenceShare } from './presenceShare.ts';
import { createTerminalRegistry } from './terminalRegistry.ts';

export interface Presence {
  /** For ingest: undefined on a single instance (connects and closes apply at once). */
  readonly gate: HoldGate | undefined;
  /** This instance holds the terminal's connection (on a single instance: it is connected). */
  isHeldHere(deviceId: string): boolean;
  /** The instance holding the terminal's connection, if any holds it. */
  holderOf(deviceId: string): string | undefined;
  /** After the live state is restored, before modules start and terminals connect. */
  start(): Promise<void>;
  /** After the broker closed (its closes decided), before the cluster link stops. */
  stop(): Promise<void>;
}

export interface PresenceDeps {
  cluster: Cluster;
  redisUrl: string;
  prefix: string;
  live: LiveState;
  log: Logger;
  onMoved: (deviceId: string) => void;
  releaseCommands?: (deviceId: string) => Promise<void>;
  offlinePath: (change: PresenceChange) => void;
  releaseRows: (instanceId: string) => Promise<void>;
}

export function createPresence(deps: PresenceDeps): Presence {
  const { cluster, live, log } = deps;
  const instanceId = cluster.instanceId;
  if (!cluster.clustered) {
    return {
      gate: undefined,
      isHeldHere: (id) => live.get(id)?.connected ?? false,
      holderOf: (id) => (live.get(id)?.connected ? instanceId : undefined),
      start: async () => undefined,
      stop: async () => undefined,
    };
  }
  const registry = createTerminalRegistry({ redisUrl: deps.redisUrl, prefix: deps.prefix, instanceId, log });
  const hold = createPresenceHold({ instanceId, live, registry, log, onMoved: deps.onMoved, releaseCommands: deps.releaseCommands });
  const share = createPresenceShare({ instanceId, live, link: cluster.link, hold, log });
  const reaper = createPresenceReaper({
    live,
    registry,
    instances: cluster.instances,
    log,
    offlinePath: deps.offlinePath,
    releaseRows: deps.releaseRows,
  });

  /** What the registry alone says of a peer's terminal: connected there; the peer's answer says more. */
  const connectedAt = (holder: string, deviceId: string) => {
    const d = live.get(deviceId);
    return {
      deviceId,
      online: true,
      connected: true,
      fwVersion: d?.fwVersion ?? null,
      slot: d?.slot ?? null,
      lastSeenMs: d?.lastSeenMs ?? Date.now(),
    };
  };

  const reconcile = createPresenceReconcile({ instanceId, live, registry, instances: cluster.instances, log });
  /** Peers took this instance for dead and removed its registry entries: hold, write and announce them again. */
  async function rehold() {
    const mine = [...live.all()].filter((d) => hold.isHeldHere(d.deviceId)).map((d) => d.deviceId);
    for (let i = 0; i < mine.length; i += 500) await Promise.all(mine.slice(i, i + 500).map((id) => registry.hold(id)));
    live.markDirty(mine);
    share.announce(mine);
  }

  const reap = (id: string) =>
    reaper.dead(id).catch((err: unknown) => log.error({ err, instance: id }, 'terminals of a dead instance not cleaned up'));

  return {
    gate: hold,
    isHeldHere: hold.isHeldHere,
    holderOf: hold.holderOf,
    async start() {
      await registry.start();
      share.start();
      cluster.instances.onDead((id) => void reap(id));
      cluster.instances.onRevived(() => void rehold().catch((err: unknown) => log.error({ err }, 'could not tell peers again what this instance holds')));
      const [held, alive] = await Promise.all([registry.all(), cluster.instances.alive()]);
      // The registry first (who holds what), then each peer's own view (online, firmware).
      const gone = new Set<string>();
      for (const [deviceId, holder] of held) {
        if (holder === instanceId) continue;
        if (alive.has(holder)) live.applyRemote(connectedAt(holder, deviceId), holder);
        else gone.add(holder);
      }
      // Instances that died while none watched: their first heartbeat may pass before onDead listens.
      for (const id of gone) void reap(id);
      await share.sync([...alive].filter((id) => id !== instanceId));
      // Peers that missed this instance's death still count those terminals online here.
      share.announce(await reaper.ownLeftovers(instanceId));
      reconcile.start();
    },
    async stop() {
      reconcile.stop();
      await hold.idle();
      share.stop();
      await registry.stop();
    },
  };
}
