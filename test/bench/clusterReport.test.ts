import { describe, expect, it } from 'vitest';
import { clusterPlan, generatorsFor, survivorLoad } from '../../scripts/bench/clusterPlan.ts';
import { clusterNotes, clusterResult, clusterRows, type ClusterRun } from '../../scripts/bench/clusterReport.ts';
import { meanCpuPerMsg, sliceFleet } from '../../scripts/bench/clusterPhases.ts';
import type { ClusterIngestStep } from '../../scripts/bench/clusterReport.ts';

const plan = clusterPlan(50_000, 4, false);

const step = (over: Partial<ClusterIngestStep>): ClusterIngestStep => ({
  rate: 1000,
  attempt: 0,
  sent: 1000,
  acked: 1000,
  serverCounted: 1000,
  p50Ms: 1,
  p99Ms: 10,
  passed: true,
  reasons: [],
  serverCpuSeconds: 0.05,
  cpuPerMsgUs: 50,
  otherCpuSeconds: 0,
  ...over,
});

const fullRun = (over: Partial<ClusterRun> = {}): ClusterRun => ({
  connect: {
    connected: 50_000,
    seconds: 30,
    perSec: 1666,
    rssBeforeMb: 600,
    rssAfterMb: 780,
    rssPerDeviceKb: 3.7,
    perInstance: [12_500, 12_500, 12_500, 12_500],
    summaryOnline: [50_000, 50_000, 50_000, 50_000],
    errors: [],
  },
  fanout: { devices: 50_000, allAckedMs: 8000, acked: 50_000 },
  ingest: { msgsPerSec: 9000, cpuPerMsgUs: 60, p99Ms: 100, capped: false, steps: [] },
  kill: { victim: 'b3', victimDevices: 12_500, allOnlineSeconds: 20, commands: 1000, commandsSucceeded: 1000, commandsLost: 0 },
  rollout: { seconds: 100 },
  errors: [],
  ...over,
});

describe('cluster plan', () => {
  it('gives every instance the same number of generators, at most 2,500 terminals each', () => {
    expect(generatorsFor(50_000, 3)).toBe(21);
    expect(generatorsFor(50_000, 4)).toBe(20);
    expect(generatorsFor(600, 2)).toBe(2);
    expect(
      Math.max(
        ...sliceFleet(
          Array.from({ length: 50_000 }, (_, i) => i),
          21,
        ).map((s) => s.length),
      ),
    ).toBeLessThanOrEqual(2500);
  });
  it('knows when the survivors of a kill would pass the descriptor limit', () => {
    expect(survivorLoad(50_000, 3)).toEqual({ perSurvivor: 25_000, fits: false });
    expect(survivorLoad(50_000, 4)).toEqual({ perSurvivor: 16_667, fits: true });
  });
  it('slices the fleet without losing or repeating a terminal', () => {
    const fleet = Array.from({ length: 1001 }, (_, i) => i);
    const slices = sliceFleet(fleet, 4);
    expect(slices).toHaveLength(4);
    expect(slices.flat()).toEqual(fleet);
  });
});

describe('cluster report', () => {
  it('passes a run within every target and writes the keys the issue names', () => {
    const rows = clusterRows(plan, fullRun());
    expect(rows.filter((r) => r.pass === false)).toEqual([]);
    const result = clusterResult(plan, false, fullRun(), {});
    expect(result).toMatchObject({
      connected: 50_000,
      rssPerDeviceKb: 3.7,
      fanout: { allAckedMs: 8000 },
      ingest: { msgsPerSec: 9000, cpuPerMsgUs: 60 },
      kill: { allOnlineSeconds: 20, commandsLost: 0 },
      rollout: { seconds: 100 },
    });
  });
  it('misses each target on its own', () => {
    const missed = (run: ClusterRun) =>
      clusterRows(plan, run)
        .filter((r) => r.pass === false)
        .map((r) => r.metric);
    expect(missed(fullRun({ connect: { ...fullRun().connect!, connected: 49_999 } }))).toEqual(['cluster: connected terminals']);
    expect(missed(fullRun({ connect: { ...fullRun().connect!, rssPerDeviceKb: 4.1 } }))).toEqual([
      'cluster: RSS per terminal (all instances)',
    ]);
    expect(missed(fullRun({ fanout: { devices: 50_000, allAckedMs: 10_001, acked: 50_000 } }))).toEqual([
      'cluster: one command to all, all acked',
    ]);
    expect(missed(fullRun({ fanout: { devices: 50_000, allAckedMs: null, acked: 3, error: 'timeout' } }))).toEqual([
      'cluster: one command to all, all acked',
    ]);
    expect(missed(fullRun({ kill: { ...fullRun().kill!, allOnlineSeconds: null } }))).toEqual([
      'kill -9: all its terminals online elsewhere',
    ]);
    expect(missed(fullRun({ kill: { ...fullRun().kill!, commandsLost: 1 } }))).toEqual(['kill -9: commands lost (of 1,000)']);
    expect(missed(fullRun({ rollout: { seconds: null, error: 'rollout ended paused' } }))).toEqual([
      'rollout 64 KiB, 3 phases: start → succeeded',
    ]);
  });
  it('says a skipped kill instead of missing it, and why', () => {
    const run = fullRun({
      kill: {
        victim: 'b2',
        victimDevices: 16_000,
        allOnlineSeconds: null,
        commands: 0,
        commandsSucceeded: 0,
        commandsLost: null,
        skipped: 'over the descriptor limit',
      },
    });
    const kills = clusterRows(plan, run).filter((r) => r.metric.startsWith('kill'));
    expect(kills.map((r) => [r.ours, r.pass])).toEqual([
      ['skipped', null],
      ['skipped', null],
    ]);
    expect(clusterNotes(plan, run)).toContain('kill: over the descriptor limit');
  });
  it('does not judge memory per terminal on a small fleet, and says the targets are for 50,000', () => {
    const small = clusterPlan(600, 2, true);
    const rss = clusterRows(small, fullRun()).find((r) => r.metric.startsWith('cluster: RSS'));
    expect(rss?.pass).toBeNull();
    expect(clusterNotes(small, fullRun()).some((n) => n.includes('set for 50,000'))).toBe(true);
  });
  it('takes CPU per message only from steps where every message was acked and counted', () => {
    expect(meanCpuPerMsg([step({ serverCpuSeconds: 0.05 }), step({ serverCpuSeconds: 0.07, p99Ms: 600, passed: false })])).toBe(60);
    expect(meanCpuPerMsg([step({ acked: 900 }), step({ serverCounted: 990 })])).toBeNull();
  });
});
