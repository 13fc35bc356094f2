// The `parameters_drift` alert (docs/parameters.md, "Drift"): a terminal whose reported set has
// differed from its desired one for PARAMETERS_DRIFT_ALERT_S, counted from when its last push
// settled (a terminal being pushed is expected to differ), raises `device.alert`, which the fault
// rule of that code turns into a fault; it is cleared once the two agree again.
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { ParameterStore } from './parameterStore.ts';
import { desiredFor, driftOf } from './parameterViews.ts';
import type { ReportedSets } from './reportedSets.ts';

export const DRIFT_ALERT = 'parameters_drift';
const FACTS_CHUNK = 1000;
const IN_FLIGHT_MAX_MS = 3600_000;

export interface DriftWatchDeps {
  store: ParameterStore;
  reported: ReportedSets;
  bus: EventBus;
  log: Logger;
  thresholdMs: number;
}

export function createDriftWatch(deps: DriftWatchDeps) {
  /** Terminals with a push under way, and since when (a push never answered stops counting after IN_FLIGHT_MAX_MS). */
  const inFlight = new Map<string, number>();
  const settledAt = new Map<string, number>();
  const driftSince = new Map<string, number>();
  /** What this instance last said of each terminal; unknown after a start, so the first agreement clears any fault left open. */
  const said = new Map<string, 'open' | 'closed'>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;

  function say(deviceId: string, open: boolean, keys: string[], templateId: string) {
    said.set(deviceId, open ? 'open' : 'closed');
    deps.bus.emit('device.alert', {
      deviceId,
      code: DRIFT_ALERT,
      severity: 'warning',
      summary: open ? `parameters differ from the desired set: ${keys.join(', ') || 'template version'}` : 'parameters agree with the desired set',
      open,
      data: { templateId, keys },
    });
  }

  async function tick(now = Date.now()): Promise<void> {
    const all = deps.reported.all();
    const ids = [...all.keys()];
    const templateIds = [...new Set([...all.values()].map((r) => r.templateId))];
    const templates = await deps.store.templates(templateIds);
    const assignments = await deps.store.allAssignments(templateIds);
    for (let i = 0; i < ids.length; i += FACTS_CHUNK) {
      const facts = await deps.store.facts(ids.slice(i, i + FACTS_CHUNK));
      for (const [id, f] of facts) {
        const r = all.get(id);
        const t = r && templates.get(r.templateId);
        const sentAt = inFlight.get(id);
        if (!r || !t || (sentAt !== undefined && now - sentAt < IN_FLIGHT_MAX_MS)) continue;
        const drift = driftOf(t, desiredFor(t, assignments.get(t.id) ?? [], f), r);
        if (drift.inSync) {
          driftSince.delete(id);
          if (said.get(id) !== 'closed') say(id, false, [], t.id);
          continue;
        }
        const since = driftSince.get(id) ?? now;
        driftSince.set(id, since);
        const from = Math.max(since, settledAt.get(id) ?? 0);
        if (now - from >= deps.thresholdMs && said.get(id) !== 'open') say(id, true, drift.keys, t.id);
      }
    }
  }

  const runTick = () => {
    if (running) return running;
    running = tick()
      .catch((err: unknown) => deps.log.warn({ err }, 'parameter drift check failed'))
      .finally(() => (running = null));
    return running;
  };

  return {
    tick,
    /** A push command went out to the terminal: its drift does not count until it settles. */
    pushSent(deviceId: string): void {
      inFlight.set(deviceId, Date.now());
    },
    /** The push reached a final state (applied, refused, failed): drift counts from now. */
    pushSettled(deviceId: string, at = Date.now()): void {
      inFlight.delete(deviceId);
      settledAt.set(deviceId, at);
      driftSince.delete(deviceId);
    },
    forget(deviceId: string): void {
      inFlight.delete(deviceId);
      settledAt.delete(deviceId);
      driftSince.delete(deviceId);
      said.delete(deviceId);
    },
    start(): void {
      const every = Math.min(30_000, Math.max(500, Math.floor(deps.thresholdMs / 2)));
      timer = setInterval(() => void runTick(), every);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
export type DriftWatch = ReturnType<typeof createDriftWatch>;
