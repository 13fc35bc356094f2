// Sizes, time limits and targets of the cluster scenario, full and CI-sized.
import { devicesPerGenerator } from './pool.ts';
import { ladder, type StepLimits } from './stats.ts';

export interface ClusterPlan {
  instances: number;
  devices: number;
  /** Load generators; a multiple of `instances`, generator g connecting to instance g mod k. */
  generators: number;
  /** Enrolments in flight on each instance. */
  enrollConcurrency: number;
  connectWindow: number;
  connectTimeoutMs: number;
  settleMs: number;
  fanoutTimeoutMs: number;
  /** Aggregate rates over the cluster (a shortened ladder). */
  rates: number[];
  stepMs: number;
  drainMs: number;
  limits: StepLimits;
  /** Commands created for the killed instance's terminals just before and just after the kill, each. */
  killCommands: number;
  killTimeoutMs: number;
  /** Whole fleet online must still hold this long after the kill: past the time a dead peer takes
   *  to be noticed (its liveness TTL, 15 s at the default heartbeat timeout: server/cluster/cluster.ts
   *  livenessTtlMs), when the survivors mark the terminals it still held offline. */
  killConfirmMs: number;
  /** How long the commands around the kill may take to succeed once the fleet is back. */
  killCommandsTimeoutMs: number;
  rolloutTimeoutMs: number;
  /** A rollout whose counts have not moved for this long is given up (stuck, not slow). */
  rolloutStallMs: number;
  imageBytes: number;
  /** Single-instance comparison: rounds at the same per-instance load. */
  singleRounds: number;
  shutdownGraceMs: number;
}

/** The figures the issue asks for, at its 50,000 terminals. */
export const clusterTargets = {
  devices: 50_000,
  rssPerDeviceKb: 4,
  fanoutAllAckedMs: 10_000,
  killAllOnlineSeconds: 60,
  killCommandsLost: 0,
  rolloutSeconds: 120,
} as const;

/** Descriptors of one process (`ulimit -n` here); each instance must stay below it. */
export const fdLimit = 20_000;
/** Room for an instance's own descriptors besides terminals (PostgreSQL pool, Redis, HTTP, files). */
export const fdReserve = 500;

export function generatorsFor(devices: number, instances: number): number {
  const base = Math.max(instances, Math.ceil(devices / devicesPerGenerator));
  return Math.ceil(base / instances) * instances;
}

export function clusterPlan(devices: number, instances: number, quick: boolean): ClusterPlan {
  return {
    instances,
    devices,
    generators: generatorsFor(devices, instances),
    enrollConcurrency: 32,
    connectWindow: 100,
    connectTimeoutMs: quick ? 60_000 : 300_000,
    settleMs: quick ? 500 : 2000,
    fanoutTimeoutMs: quick ? 30_000 : 60_000,
    // From 1,000: 50,000 terminals' own upkeep (keepalives, flushes) leaves a 2-core machine little room.
    rates: quick ? ladder(1000, 1000, 3000) : [1000, 2000, 4000, 6000, 9000, 12_000, 15_000],
    stepMs: quick ? 2000 : 10_000,
    drainMs: quick ? 2000 : 5000,
    limits: { maxP99Ms: 250, requireServerCount: true },
    killCommands: quick ? 50 : 500,
    killTimeoutMs: quick ? 60_000 : 180_000,
    killConfirmMs: 20_000,
    killCommandsTimeoutMs: quick ? 20_000 : 60_000,
    rolloutTimeoutMs: quick ? 45_000 : 300_000,
    rolloutStallMs: quick ? 20_000 : 60_000,
    imageBytes: 64 * 1024,
    singleRounds: quick ? 1 : 2,
    shutdownGraceMs: quick ? 10_000 : 30_000,
  };
}

/** Terminals each survivor holds after one instance dies, and whether that fits the descriptor limit. */
export function survivorLoad(devices: number, instances: number): { perSurvivor: number; fits: boolean } {
  const perSurvivor = Math.ceil(devices / Math.max(1, instances - 1));
  return { perSurvivor, fits: perSurvivor + fdReserve < fdLimit };
}
