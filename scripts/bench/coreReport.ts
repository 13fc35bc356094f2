// Turns the two runs of the core scenario into its latest.json entry and table rows.
import type { ConnectResult } from './connectPhase.ts';
import type { PosfleetRun } from './corePosfleet.ts';
import { maxP99Ms, type CorePlan } from './corePlan.ts';
import type { FixedRateRun, RawRun } from './coreRaw.ts';
import type { IngestStep } from './ingestPhase.ts';
import { ingestShare, interferenceNote, shareOf, type Interference } from './interference.ts';
import type { machineInfo } from './machine.ts';
import type { TableRow } from './scenario.ts';
import { cell } from './table.ts';
import { round } from './util.ts';

export const minDevicesForRss = 2000;

export const targets = { ratio: 0.9, cpuPerMsgRatio: 1.3, rssPerDeviceKb: 25, fanoutMs: 1500, fanoutRatio: 1.25, lagP99Ms: 50, reconnectS: 60, rulesThroughputKept: 0.95 } as const;

/** The baseline block of latest.json; also what --skip-baseline reuses from a previous run. */
export interface BaselineEntry {
  when: string;
  connect: ReturnType<typeof connectSummary> | null;
  rssPerDeviceKb: number | null;
  ingest: { msgsPerSec: number | null; p99Ms: number | null; capped: boolean; steps: IngestStep[] };
  fanout: { devices: number | null; allAckedMs: number | null };
  eventLoopLag: { p99Ms: number | null; p99MsAllSteps: number | null };
  /** The same fixed rate as ours' rules-cost rounds (absent in baselines of older runs). */
  atRate?: FixedRateRun | null;
  interference: Interference;
  errors: string[];
  reusedFrom?: string;
}

type ConnectLike = { otherCpuSeconds: number; seconds: number } | undefined;
type IngestLike = { steps: IngestStep[] } | undefined;

export function interferenceOf(connect: ConnectLike, ingest: IngestLike, cpus: number): Interference {
  return {
    ingestShare: ingest ? ingestShare(ingest.steps, cpus) : null,
    connectShare: connect ? shareOf(connect.otherCpuSeconds, connect.seconds, cpus) : null,
  };
}

export function baselineEntry(raw: RawRun, when: string, cpus: number): BaselineEntry {
  return {
    when,
    connect: raw.connect ? connectSummary(raw.connect) : null,
    rssPerDeviceKb: raw.connect?.rssPerDeviceKb ?? null,
    ingest: { msgsPerSec: raw.ingest?.msgsPerSec ?? null, p99Ms: raw.ingest?.p99Ms ?? null, capped: raw.ingest?.capped ?? false, steps: raw.ingest?.steps ?? [] },
    fanout: { devices: raw.fanout?.devices ?? null, allAckedMs: raw.fanout?.allAckedMs ?? null },
    eventLoopLag: { p99Ms: lagMs(raw.ingest?.lagP99MsSustained), p99MsAllSteps: lagMs(raw.ingest?.lagP99MsAllSteps) },
    atRate: raw.atRate ?? null,
    interference: interferenceOf(raw.connect, raw.ingest, cpus),
    errors: raw.errors,
  };
}

function connectSummary(c: ConnectResult) {
  const { perSec, seconds, readySeconds, failed, rssBeforeMb, rssAfterMb, otherCpuSeconds } = c;
  return { perSec, seconds, readySeconds, failed, rssBeforeMb, rssAfterMb, otherCpuSeconds };
}

const lagMs = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : round(v, 1));

/**
 * Both brokers at one fixed rate below saturation (ours with its default rules on): broker CPU
 * per message and event-loop lag. Finer than the ladder, and free of the saturation that makes
 * the lag of either broker at its own ceiling mostly a measure of the machine.
 */
export function fixedRateComparison(ours: PosfleetRun, base: BaselineEntry | null) {
  const cost = ours.rulesCost;
  const raw = base?.atRate;
  if (!cost || !raw || raw.rate !== cost.rate) return null;
  return {
    rate: cost.rate,
    cpuUsPerMsg: {
      ours: cost.cpuUsPerMsgOn,
      raw: raw.cpuUsPerMsg,
      rawOverOurs: round(raw.cpuUsPerMsg / cost.cpuUsPerMsgOn, 3),
      /** Issue #13's figure: at most 1.3. */
      oursOverRaw: round(cost.cpuUsPerMsgOn / raw.cpuUsPerMsg, 3),
    },
    eventLoopLagP99Ms: { ours: lagMs(cost.lagP99MsOn), raw: lagMs(raw.lagP99Ms) },
  };
}

const le = (v: number | null | undefined, limit: number): boolean | null => (v === null || v === undefined ? null : v <= limit);

/** Ours ÷ raw aedes, time until a fleet-wide command is acked by every terminal (issue #13: at most 1.25). */
const fanoutRatio = (ours: PosfleetRun, base: BaselineEntry | null): number | null => {
  const mine = ours.fanout?.allAckedMs;
  const raw = base?.fanout.allAckedMs;
  return mine !== null && mine !== undefined && raw ? round(mine / raw, 3) : null;
};

export function coreResult(plan: CorePlan, quick: boolean, generators: number, machine: ReturnType<typeof machineInfo>, ours: PosfleetRun, base: BaselineEntry | null): Record<string, unknown> {
  const oursRate = ours.ingest?.msgsPerSec ?? null;
  const baseRate = base?.ingest.msgsPerSec ?? null;
  const atFixedRate = fixedRateComparison(ours, base);
  return {
    when: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    devices: plan.devices,
    machine,
    settings: { generators, stepSeconds: plan.stepMs / 1000, drainSeconds: plan.drainMs / 1000, rates: plan.rates, maxP99Ms: plan.limits.maxP99Ms, retries: plan.retries, resolution: plan.resolution },
    enroll: ours.enroll ?? null,
    connect: ours.connect ? connectSummary(ours.connect) : null,
    rssPerDeviceKb: ours.connect?.rssPerDeviceKb ?? null,
    ingest: {
      msgsPerSec: oursRate,
      p99Ms: ours.ingest?.p99Ms ?? null,
      ratioToRawAedes: oursRate !== null && baseRate ? round(oursRate / baseRate, 3) : null,
      /** Ours ÷ raw aedes, broker CPU per message at the same fixed rate (atFixedRate). */
      cpuPerMsgRatio: atFixedRate?.cpuUsPerMsg.oursOverRaw ?? null,
      capped: ours.ingest?.capped ?? false,
      steps: ours.ingest?.steps ?? [],
    },
    rulesCost: ours.rulesCost ?? null,
    fanout: ours.fanout ? { ...ours.fanout, ratioToRawAedes: fanoutRatio(ours, base) } : null,
    eventLoopLag: { p99Ms: lagMs(ours.ingest?.lagP99MsSustained), p99MsAllSteps: lagMs(ours.ingest?.lagP99MsAllSteps) },
    atFixedRate,
    reconnect: ours.reconnect ?? null,
    interference: interferenceOf(ours.connect, ours.ingest, machine.cpus),
    serverStartSeconds: ours.startSeconds ?? null,
    baseline: base,
    errors: ours.errors,
  };
}

export function coreNotes(ours: PosfleetRun, base: BaselineEntry | null, cpus: number): string[] {
  const notes = [
    interferenceNote('posfleet', interferenceOf(ours.connect, ours.ingest, cpus)),
    base && !base.reusedFrom ? interferenceNote('raw aedes', base.interference) : undefined,
    base?.reusedFrom ? `raw aedes figures reused from the run of ${base.reusedFrom}` : undefined,
    ours.ingest?.capped || base?.ingest.capped ? '"+": every step of the ladder passed; the limit lies higher' : undefined,
    ...ours.errors.map((e) => `posfleet error: ${e.split('\n')[0]}`),
    ...(base && !base.reusedFrom ? base.errors.map((e) => `raw aedes error: ${e.split('\n')[0]}`) : []),
  ];
  return notes.filter((n): n is string => n !== undefined);
}

export function coreRows(ours: PosfleetRun, base: BaselineEntry | null, devices: number): TableRow[] {
  const ratio = ours.ingest && base?.ingest.msgsPerSec ? ours.ingest.msgsPerSec / base.ingest.msgsPerSec : null;
  const capped = (capped: boolean | undefined) => (capped ? '+' : '');
  return [
    { metric: 'devices', ours: cell(devices), baseline: base ? cell(devices) : '', pass: null },
    { metric: 'enroll (/s)', ours: cell(ours.enroll?.perSec), pass: null },
    { metric: 'connect (/s)', ours: cell(ours.connect?.perSec), baseline: cell(base?.connect?.perSec), pass: null },
    {
      metric: 'RSS per device (KiB)',
      ours: cell(ours.connect?.rssPerDeviceKb, '', 1),
      baseline: cell(base?.rssPerDeviceKb, '', 1),
      // Below a few thousand devices heap growth and GC timing drown the per-device figure.
      target: devices >= minDevicesForRss ? `<= ${targets.rssPerDeviceKb}` : `<= ${targets.rssPerDeviceKb} (n/a < ${minDevicesForRss})`,
      pass: devices >= minDevicesForRss ? le(ours.connect?.rssPerDeviceKb, targets.rssPerDeviceKb) : null,
    },
    { metric: 'ingest, sustained QoS1 (msg/s)', ours: cell(ours.ingest?.msgsPerSec) + capped(ours.ingest?.capped), baseline: cell(base?.ingest.msgsPerSec) + capped(base?.ingest.capped), pass: null },
    { metric: 'ingest p99 at that rate (ms)', ours: cell(ours.ingest?.p99Ms, '', 1), baseline: cell(base?.ingest.p99Ms, '', 1), target: `<= ${maxP99Ms}`, pass: null },
    { metric: 'ingest ratio to raw aedes', ours: cell(ratio, '', 2), target: `>= ${targets.ratio}`, pass: ratio === null ? null : ratio >= targets.ratio },
    { metric: `fault rules: CPU/msg on vs off (µs)`, ours: ours.rulesCost ? `${cell(ours.rulesCost.cpuUsPerMsgOn, '', 1)} / ${cell(ours.rulesCost.cpuUsPerMsgOff, '', 1)}` : '', pass: null },
    {
      metric: 'fault rules: throughput kept',
      ours: cell(ours.rulesCost?.throughputKept, '', 3),
      target: `>= ${targets.rulesThroughputKept}`,
      pass: ours.rulesCost ? ours.rulesCost.throughputKept >= targets.rulesThroughputKept : null,
    },
    { metric: 'fan-out, all acked (ms)', ours: cell(ours.fanout?.allAckedMs), baseline: cell(base?.fanout.allAckedMs), target: `<= ${targets.fanoutMs}`, pass: ours.fanout ? le(ours.fanout.allAckedMs, targets.fanoutMs) ?? false : null },
    { metric: 'fan-out ratio to raw aedes', ours: cell(fanoutRatio(ours, base), '', 2), target: `<= ${targets.fanoutRatio}`, pass: le(fanoutRatio(ours, base), targets.fanoutRatio) },
    { metric: 'event-loop p99, sustained load (ms)', ours: cell(ours.ingest?.lagP99MsSustained, '', 1), baseline: cell(base?.eventLoopLag.p99Ms, '', 1), target: `<= ${targets.lagP99Ms}`, pass: le(ours.ingest?.lagP99MsSustained, targets.lagP99Ms) },
    { metric: 'event-loop p99, all steps (ms)', ours: cell(ours.ingest?.lagP99MsAllSteps, '', 1), baseline: cell(base?.eventLoopLag.p99MsAllSteps, '', 1), pass: null },
    ...fixedRateRows(fixedRateComparison(ours, base)),
    { metric: 'restart: all online (s)', ours: cell(ours.reconnect?.allOnlineSeconds, '', 1), target: `<= ${targets.reconnectS}`, pass: ours.reconnect ? le(ours.reconnect.allOnlineSeconds, targets.reconnectS) ?? false : null },
    { metric: 'restart: server CPU (s)', ours: cell(ours.reconnect?.serverCpuSeconds, '', 1), pass: null },
  ];
}

function fixedRateRows(at: ReturnType<typeof fixedRateComparison>): TableRow[] {
  if (!at) return [];
  return [
    { metric: `broker CPU per msg at ${at.rate} msg/s (µs)`, ours: cell(at.cpuUsPerMsg.ours, '', 1), baseline: cell(at.cpuUsPerMsg.raw, '', 1), pass: null },
    {
      metric: 'CPU-per-msg ratio, ours ÷ raw',
      ours: cell(at.cpuUsPerMsg.oursOverRaw, '', 2),
      target: `<= ${targets.cpuPerMsgRatio}`,
      pass: at.cpuUsPerMsg.oursOverRaw <= targets.cpuPerMsgRatio,
    },
    { metric: `event-loop p99 at ${at.rate} msg/s (ms)`, ours: cell(at.eventLoopLagP99Ms.ours, '', 1), baseline: cell(at.eventLoopLagP99Ms.raw, '', 1), pass: null },
  ];
}
