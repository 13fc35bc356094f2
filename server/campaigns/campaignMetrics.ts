// Prometheus view of the campaign engine: members of running campaigns by state, phases started,
// and how long a device takes from its send to a final state.
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { RunningCampaign } from './runningCampaign.ts';

export function createCampaignMetrics(registry: Registry, running: () => Iterable<RunningCampaign>) {
  new Gauge({
    name: 'posfleet_campaign_devices',
    help: 'Devices of running campaigns by kind, campaign, phase and state',
    labelNames: ['kind', 'campaign', 'phase', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of running()) {
        c.counts.forEach((counts, phase) => {
          for (const [state, n] of Object.entries(counts))
            if (n) this.set({ kind: c.kind.name, campaign: c.row.id, phase: String(phase), state }, n);
        });
      }
    },
  });
  new Gauge({
    name: 'posfleet_campaign_phases_started',
    help: 'Phases started per running campaign',
    labelNames: ['kind', 'campaign'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of running()) this.set({ kind: c.kind.name, campaign: c.row.id }, c.row.phasesStarted);
    },
  });
  const durations = new Histogram({
    name: 'posfleet_campaign_device_seconds',
    help: 'Time from send to a final state, per kind and outcome',
    labelNames: ['kind', 'outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [registry],
  });
  return {
    deviceFinished(kind: string, outcome: string, seconds: number) {
      durations.observe({ kind, outcome }, seconds);
    },
  };
}

export type CampaignMetrics = ReturnType<typeof createCampaignMetrics>;
