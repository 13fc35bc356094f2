// What a dead instance's terminals become: every instance marks them offline in its memory at
// once (nobody holds them now), and the one instance that claims the clean-up runs the offline
// path for them as if they had been its own (timeline, `device.presence`, the modules' offline
// rules, device_state) and empties the dead instance's registry entries. A terminal that
// reconnects to a live instance is online there again, whatever the order.
import type { Logger } from '../log.ts';
import type { LiveState, PresenceChange } from '../telemetry/liveState.ts';
import type { InstanceRegistry } from './instances.ts';
import type { TerminalRegistry } from './terminalRegistry.ts';

const CLAIM_TTL_MS = 60_000;

export interface PresenceReaperDeps {
  live: LiveState;
  registry: TerminalRegistry;
  instances: Pick<InstanceRegistry, 'claim'>;
  log: Logger;
  /** ingest.presenceChanged: timeline, bus event, modules' onPresence. */
  offlinePath: (change: PresenceChange) => void;
  /** Writes the rows the dead instance held as offline (stateWriter.releaseHeldBy). */
  releaseRows: (instanceId: string) => Promise<void>;
}

export interface PresenceReaper {
  /** A peer died: on every instance. */
  dead(instanceId: string): Promise<void>;
  /**
   * This instance starting under the id of a run that died: what the registry still says it
   * held is offline (its peers may not have noticed the death within the key's TTL).
   */
  ownLeftovers(instanceId: string, held: string[]): Promise<void>;
}

export function createPresenceReaper(deps: PresenceReaperDeps): PresenceReaper {
  const { live, log } = deps;

  async function reap(instanceId: string, deviceIds: Iterable<string>) {
    for (const deviceId of deviceIds) deps.offlinePath({ deviceId, online: false, reason: 'timeout' });
    await deps.releaseRows(instanceId);
    await deps.registry.removeInstance(instanceId);
  }

  return {
    async dead(instanceId) {
      const wereOnline = live.dropHolder(instanceId, Date.now());
      if (!(await deps.instances.claim(`reap:${instanceId}`, CLAIM_TTL_MS))) return;
      // What the registry names beyond memory: terminals this instance never heard of as online there.
      const listed = (await deps.registry.all().catch(() => new Map<string, string>())).entries();
      const ids = new Set(wereOnline);
      for (const [deviceId, holder] of listed) if (holder === instanceId && !live.get(deviceId)?.holder) ids.add(deviceId);
      log.warn({ instance: instanceId, terminals: ids.size }, 'terminals of a dead instance marked offline');
      await reap(instanceId, ids);
    },
    async ownLeftovers(instanceId, held) {
      if (!held.length) return;
      log.warn({ terminals: held.length }, 'terminals held by the previous run of this instance marked offline');
      await reap(instanceId, held);
    },
  };
}
