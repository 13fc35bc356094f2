// The demo says "online" only about terminals that are: it waits for the fleet to connect (or
// fail) and reports the count, with the reasons when some did not make it.
import type { FleetProgress, FleetSummary } from '../simulate/summary.ts';

export interface FleetReport {
  ok: boolean;
  line: string;
}

/** Pure: what to tell the user about the fleet as it is now. */
export function fleetReport(p: FleetProgress, failures: FleetSummary['failures'], mqttUrl: string): FleetReport {
  const reasons = Object.entries(failures)
    .map(([why, n]) => `${n} × ${why}`)
    .join(', ');
  if (p.total > 0 && p.connected === p.total) return { ok: true, line: `fleet online: ${p.connected} of ${p.total} terminals connected` };
  if (p.connected === 0)
    return {
      ok: false,
      line:
        `no terminal connected to ${mqttUrl} (${p.enrolled} of ${p.total} enrolled${reasons ? `; failed: ${reasons}` : ''}). ` +
        'Set LOG_LEVEL=debug for the agents’ view, or start afresh with another DATA_DIR.',
    };
  const missing = p.total - p.connected;
  return {
    ok: true,
    line: `fleet partly online: ${p.connected} of ${p.total} terminals connected, ${missing} not${reasons ? ` (failed: ${reasons})` : ' yet (still trying)'}`,
  };
}

/** Waits until every terminal connected or failed, or `timeoutMs` passed. */
export async function waitForFleet(progress: () => FleetProgress, timeoutMs: number): Promise<FleetProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = progress();
    if (p.connected + p.failed >= p.total || Date.now() >= deadline) return p;
    await new Promise((r) => setTimeout(r, 250));
  }
}
