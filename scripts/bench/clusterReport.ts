// The cluster scenario's latest.json entry and table rows from what its phases measured; pure,
// so the verdicts are unit-tested (test/bench/clusterReport.test.ts).
import { clusterTargets, type ClusterPlan } from './clusterPlan.ts';
import type { TableRow } from './scenario.ts';
import { cell } from './table.ts';

export interface ClusterIngestStep {
  rate: number;
  attempt: number;
  sent: number;
  acked: number;
  serverCounted: number | null;
  p50Ms: number;
  p99Ms: number;
  passed: boolean;
  reasons: string[];
  /** CPU seconds of every instance's process tree during the step. */
  serverCpuSeconds: number;
  cpuPerMsgUs: number | null;
  otherCpuSeconds: number;
}

export interface ClusterRun {
  enroll?: { seconds: number; perSec: number };
  connect?: {
    connected: number;
    seconds: number;
    perSec: number;
    rssBeforeMb: number;
    rssAfterMb: number;
    rssPerDeviceKb: number;
    /** posfleet_connected_devices of each instance. */
    perInstance: (number | null)[];
    /** /v1/fleet/summary online as each instance answers it. */
    summaryOnline: (number | null)[];
    errors: string[];
  };
  fanout?: { devices: number; allAckedMs: number | null; acked: number; finalCounts?: Record<string, number>; error?: string };
  ingest?: {
    msgsPerSec: number;
    /** Mean over the passing steps at the sustained rate. */
    cpuPerMsgUs: number | null;
    p99Ms: number | null;
    capped: boolean;
    steps: ClusterIngestStep[];
    single?: { devices: number; rate: number; cpuPerMsgUs: number | null; steps: ClusterIngestStep[]; error?: string };
  };
  kill?: {
    victim: string;
    victimDevices: number;
    allOnlineSeconds: number | null;
    commands: number;
    commandsSucceeded: number;
    commandsLost: number | null;
    counts?: Record<string, number>[];
    lastSeen?: { online: number; connected: number };
    skipped?: string;
    error?: string;
  };
  rollout?: {
    seconds: number | null;
    state?: string;
    counts?: unknown;
    downloadMBps?: number;
    terminalInstalls?: number;
    terminalFailures?: number;
    error?: string;
  };
  errors: string[];
}

/** How terminals meet the instances, written next to the figures. */
export const routingText = (k: number): string =>
  `by URL: generator g connects its terminals to instance g mod ${k}; each terminal takes the other instances as alternates, tried in turn when a connect fails`;

export function clusterResult(plan: ClusterPlan, quick: boolean, run: ClusterRun, machine: unknown): Record<string, unknown> {
  return {
    instances: plan.instances,
    devices: plan.devices,
    mode: quick ? 'quick' : 'full',
    generators: plan.generators,
    routing: routingText(plan.instances),
    machine,
    connected: run.connect?.connected ?? null,
    rssPerDeviceKb: run.connect?.rssPerDeviceKb ?? null,
    enroll: run.enroll ?? null,
    connect: run.connect ?? null,
    fanout: run.fanout ?? null,
    ingest: run.ingest ?? null,
    kill: run.kill ?? null,
    rollout: run.rollout ?? null,
    errors: run.errors,
  };
}

const within = (v: number | null | undefined, max: number): boolean | null => (v === null || v === undefined ? false : v <= max);

export function clusterRows(plan: ClusterPlan, run: ClusterRun): TableRow[] {
  const t = clusterTargets;
  const connected = run.connect?.connected ?? null;
  const rss = run.connect?.rssPerDeviceKb ?? null;
  const single = run.ingest?.single;
  const kill = run.kill;
  return [
    { metric: 'cluster: instances × terminals', ours: `${plan.instances} × ${cell(plan.devices)}`, pass: null },
    {
      metric: 'cluster: connected terminals',
      ours: cell(connected),
      target: `= ${cell(plan.devices)}`,
      pass: connected === null ? false : connected === plan.devices,
    },
    {
      metric: 'cluster: RSS per terminal (all instances)',
      ours: cell(rss, ' KiB', 2),
      target: `≤ ${t.rssPerDeviceKb} KiB`,
      // Below 2,000 terminals the per-terminal share is noise of the processes' own growth.
      pass: plan.devices < 2000 ? null : within(rss, t.rssPerDeviceKb),
    },
    {
      metric: 'cluster: one command to all, all acked',
      ours: cell(run.fanout?.allAckedMs, ' ms'),
      target: `≤ ${cell(t.fanoutAllAckedMs)} ms`,
      pass: within(run.fanout?.allAckedMs, t.fanoutAllAckedMs),
    },
    { metric: 'cluster: ingest, sustained QoS 1 health', ours: cell(run.ingest?.msgsPerSec, ' msg/s'), pass: null },
    { metric: 'cluster: ingest, server CPU per message', ours: cell(run.ingest?.cpuPerMsgUs, ' µs', 1), pass: null },
    {
      metric: `one instance, same load (${cell(single?.devices)} at ${cell(single?.rate)} msg/s)`,
      ours: cell(single?.cpuPerMsgUs, ' µs', 1),
      pass: null,
    },
    kill?.skipped
      ? { metric: 'kill -9 of one instance', ours: 'skipped', target: `≤ ${t.killAllOnlineSeconds} s`, pass: null }
      : {
          metric: 'kill -9: all its terminals online elsewhere',
          ours: cell(kill?.allOnlineSeconds, ' s', 1),
          target: `≤ ${t.killAllOnlineSeconds} s`,
          pass: within(kill?.allOnlineSeconds, t.killAllOnlineSeconds),
        },
    {
      metric: `kill -9: commands lost (of ${cell(kill?.commands)})`,
      ours: kill?.skipped ? 'skipped' : cell(kill?.commandsLost),
      target: `= ${t.killCommandsLost}`,
      pass: kill?.skipped ? null : kill?.commandsLost === t.killCommandsLost,
    },
    {
      metric: `rollout ${plan.imageBytes / 1024} KiB, 3 phases: start → succeeded`,
      ours: cell(run.rollout?.seconds, ' s', 1),
      target: `≤ ${t.rolloutSeconds} s`,
      pass: within(run.rollout?.seconds, t.rolloutSeconds),
    },
  ];
}

export function clusterNotes(plan: ClusterPlan, run: ClusterRun): string[] {
  const notes = [`routing ${routingText(plan.instances)}`];
  if (plan.devices < clusterTargets.devices)
    notes.push(
      `the targets are set for ${cell(clusterTargets.devices)} terminals; at ${cell(plan.devices)} a verdict only says the figure is within the bound`,
    );
  if (run.kill?.skipped) notes.push(`kill: ${run.kill.skipped}`);
  for (const e of run.errors.slice(0, 5)) notes.push(`error: ${e.split('\n')[0]}`);
  return notes;
}
