// What a dead instance's terminals become: every instance marks them offline in its memory at
// once (nobody holds them now), and their offline path runs as if they had been local (timeline,
// `device.presence`, the modules' offline rules, device_state) exactly once per terminal: by
// whoever removes the terminal's registry entry, an atomic step only one caller can win. The
// instance that claims the clean-up goes first; the others follow a moment later for whatever a
// stale claim (the same instance dying twice within its TTL) would leave to nobody. An instance
// restarted under the dead one's id removes its own leftovers the same way, whoever is first.
import type { Logger } from '../log.ts';
import type { LiveState, PresenceChange } from '../telemetry/liveState.ts';
import type { InstanceRegistry } from './instances.ts';
import type { TerminalRegistry } from './terminalRegistry.ts';

const CLAIM_TTL_MS = 60_000;
/** How long an instance that lost the claim waits before it cleans up what is left. */
const AFTER_CLAIMER_MS = 2_000;

export interface PresenceReaperDeps {
  live: LiveState;
  registry: TerminalRegistry;
  instances: Pick<InstanceRegistry, 'claim' | 'alive'>;
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
   * This instance starting under the id of a run that died, before its broker listens: what the
   * registry still says it holds is offline (its peers may not have noticed the death within
   * the key's TTL). Returns the terminals it took.
   */
  ownLeftovers(instanceId: string): Promise<string[]>;
}

export function createPresenceReaper(deps: PresenceReaperDeps): PresenceReaper {
  const { live, log } = deps;

  async function reap(instanceId: string): Promise<string[]> {
    const taken = await deps.registry.removeInstance(instanceId);
    for (const deviceId of taken) deps.offlinePath({ deviceId, online: false, reason: 'timeout' });
    await deps.releaseRows(instanceId);
    return taken;
  }

  return {
    async dead(instanceId) {
      live.dropHolder(instanceId, Date.now());
      const first = await deps.instances.claim(`reap:${instanceId}`, CLAIM_TTL_MS);
      if (!first) await new Promise((r) => setTimeout(r, AFTER_CLAIMER_MS));
      // Back already (a quick restart): it takes its leftovers itself, and what it holds now is its own.
      if ((await deps.instances.alive()).has(instanceId)) return;
      const taken = await reap(instanceId);
      if (taken.length) log.warn({ instance: instanceId, terminals: taken.length }, 'terminals of a dead instance marked offline');
    },
    async ownLeftovers(instanceId) {
      const taken = await reap(instanceId);
      if (taken.length) log.warn({ terminals: taken.length }, 'terminals held by the previous run of this instance marked offline');
      return taken;
    },
  };
}
