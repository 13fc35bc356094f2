// The campaign engine: applies the pure rules of campaignRules.ts to campaigns of any kind.
// The database is the truth (campaigns, campaign_devices); running campaigns are also held in
// memory so acks at fleet speed do not each wait on the database (records are written behind
// every FLUSH_MS). A BullMQ job scheduler ticks every TICK_MS and applies the decisions:
// timeouts, phase starts, the error rule, sends within the rate and the windows. Sends are
// claimed in the database before the command is created, so a restart finds the command of a
// claimed send (by campaign and attempt) instead of sending the update twice.
// Cancel asks the devices in flight to abort (CommandService sends them a `cancel`); their
// answers, and the version they report afterwards, settle their records after the campaign has
// ended (a device the cancel reached too late is counted by what it reports).
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Histogram, Gauge } from 'prom-client';
import type { CampaignRow, CampaignState } from '../../schemas/tables/campaigns.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import { and, eq } from 'drizzle-orm';
import { campaigns } from '../../schemas/tables/campaigns.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import { badRequest, conflict, notFound, unprocessable } from '../errors.ts';
import type { EventBus, LiveEvents } from '../events/eventBus.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { Principal } from '../http/types.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { CampaignDevice, CampaignDeviceState, CampaignKind, CommandUpdate, OpenCampaign, Verdict } from './campaignKind.ts';
import {
  abortNotes,
  afterAbortAnswer,
  applyVerdict,
  decide,
  drawPhases,
  inFlightDeviceStates,
  inWindow,
  isFinalDeviceState,
  isDeferralDue,
  isTimedOut,
  phasePassed,
  phaseTripped,
  rankOf,
  sendBudget,
  tally,
  truthAfterCancel,
  type Decision,
  type DeviceRecord,
  type StateCounts,
} from './campaignRules.ts';
import { campaignSpec, MAX_TARGET, type CampaignSpec } from './campaignSpec.ts';
import { createCampaignStore, recView, type DeviceRec, type TargetInfo } from './campaignStore.ts';

export const CAMPAIGN_QUEUE = 'campaigns';
const FLUSH_MS = 100;
/** Commands being created at once for a campaign whose kind does not say (CampaignKind.sendConcurrency). */
const SEND_CONCURRENCY = 32;
const DYNAMIC_EVERY_MS = 5000;
const RECONCILE_EVERY_MS = 5000;
/** How long after a cancel the version a device reports may still correct its record. */
const ABORT_WATCH_MS = 30 * 60_000;

export interface CampaignEngineDeps {
  db: Db;
  queues: JobQueues;
  bus: EventBus;
  commands: CommandService;
  devices: DeviceService;
  live: LiveState;
  audit: AuditLog;
  log: Logger;
  metrics: Metrics;
  /** First retry delay; doubles per attempt. */
  retryBaseMs?: number;
  tickMs?: number;
}

export interface CreateCampaign {
  name: string;
  spec: unknown;
  params: unknown;
}

interface Live {
  row: CampaignRow;
  spec: CampaignSpec;
  kind: CampaignKind;
  open: OpenCampaign;
  recs: Map<string, DeviceRec>;
  info: Map<string, TargetInfo>;
  counts: StateCounts[];
  revertsOpen: number;
  sentTimes: number[];
  lastDynamicMs: number;
  lastReconcileMs: number;
}

type CampaignEvent = LiveEvents['campaign.updated'];

/** A device of an ended campaign that was asked to abort: settled by its answer and its reports. */
interface AbortWatch {
  rec: DeviceRec;
  kind: string;
  open: OpenCampaign;
  info: TargetInfo | undefined;
  until: number;
}

const nowMs = () => Date.now();
const newCampaignId = () => `cmp_${randomBytes(12).toString('base64url')}`;

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

export function createCampaignEngine(deps: CampaignEngineDeps) {
  const { log } = deps;
  const store = createCampaignStore(deps.db);
  const kinds = new Map<string, CampaignKind>();
  const live = new Map<string, Live>();
  const byCommand = new Map<string, DeviceRec>();
  const dirty = new Set<DeviceRec>();
  /** Campaigns whose finish is under way. */
  const finishing = new Set<string>();
  /** By the id of the `cancel` command sent to the device. */
  const aborts = new Map<string, AbortWatch>();
  /** Whose reported version is checked every tick until `until`. */
  const watched = new Set<AbortWatch>();
  const retryBaseMs = deps.retryBaseMs ?? 30_000;
  const tickMs = deps.tickMs ?? 1000;
  let queue: Queue | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | null = null;
  let offBus: (() => void) | undefined;
  let stopped = false;

  const registry = deps.metrics.registry;
  const devicesGauge = new Gauge({
    name: 'posfleet_campaign_devices',
    help: 'Devices of running campaigns by kind, campaign, phase and state',
    labelNames: ['kind', 'campaign', 'phase', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of live.values()) {
        c.counts.forEach((counts, phase) => {
          for (const [state, n] of Object.entries(counts))
            if (n) this.set({ kind: c.kind.name, campaign: c.row.id, phase: String(phase), state }, n);
        });
      }
    },
  });
  const phaseGauge = new Gauge({
    name: 'posfleet_campaign_phases_started',
    help: 'Phases started per running campaign',
    labelNames: ['kind', 'campaign'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of live.values()) this.set({ kind: c.kind.name, campaign: c.row.id }, c.row.phasesStarted);
    },
  });
  const durations = new Histogram({
    name: 'posfleet_campaign_device_seconds',
    help: 'Time from send to a final state, per kind and outcome',
    labelNames: ['kind', 'outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [registry],
  });
  void devicesGauge;
  void phaseGauge;

  // ---------- counts and records ----------

  const countsAdd = (c: Live, r: DeviceRec, delta: 1 | -1) => {
    if (r.action === 'revert' && !isFinalDeviceState(r.state)) {
      c.revertsOpen += delta;
      return;
    }
    const phase = (c.counts[r.phase] ??= {});
    phase[r.state] = (phase[r.state] ?? 0) + delta;
  };

  function patchRec(c: Live, r: DeviceRec, patch: Partial<DeviceRec>) {
    const before = r.state;
    countsAdd(c, r, -1);
    Object.assign(r, patch);
    countsAdd(c, r, 1);
    dirty.add(r);
    if (r.state !== before) {
      deps.bus.emit('campaign.device', {
        campaignId: c.row.id,
        kind: c.kind.name,
        deviceId: r.deviceId,
        phase: r.phase,
        state: r.state,
        action: r.action,
        progress: r.progress,
        error: r.error,
      });
      if (isFinalDeviceState(r.state) && r.sentAt) durations.observe({ kind: c.kind.name, outcome: r.state }, (nowMs() - r.sentAt) / 1000);
    }
  }

  const deviceFor = (c: Live, r: DeviceRec): CampaignDevice => {
    const info = c.info.get(r.deviceId);
    return {
      deviceId: r.deviceId,
      model: info?.model ?? '',
      reportedVersion: deps.live.get(r.deviceId)?.fwVersion ?? info?.fwVersion ?? null,
      labels: info?.labels ?? {},
      fromVersion: r.fromVersion,
    };
  };

  const emitCampaign = (c: Live | CampaignRow, extra: Partial<CampaignEvent> = {}) => {
    const row = 'row' in c ? c.row : c;
    deps.bus.emit('campaign.updated', {
      id: row.id,
      kind: row.kind,
      state: row.state,
      phasesStarted: row.phasesStarted,
      pausedReason: row.pausedReason,
      rollingBack: row.rollingBack,
      ...('row' in c ? { counts: c.counts } : {}),
      ...extra,
    });
  };

  async function writeDirty() {
    const list = [...dirty];
    dirty.clear();
    if (!list.length) return;
    try {
      await store.writeDevices(list);
    } catch (err) {
      for (const r of list) dirty.add(r);
      log.error({ err }, 'writing campaign device records failed; will retry');
    }
  }
  async function flush() {
    while (writing) await writing;
    writing = writeDirty().finally(() => (writing = null));
    await writing;
  }

  async function saveRow(c: Live, patch: Partial<CampaignRow>) {
    Object.assign(c.row, patch);
    await store.updateCampaign(c.row.id, patch);
  }

  // ---------- loading ----------

  function kindOf(name: string): CampaignKind {
    const k = kinds.get(name);
    if (!k) throw new Error(`no campaign kind ${name}`);
    return k;
  }

  async function load(row: CampaignRow): Promise<Live> {
    const kind = kindOf(row.kind);
    const spec = campaignSpec.parse(row.spec);
    const open = await kind.open(kind.params.parse(row.params), row.id, spec);
    const recs = await store.devicesOf(row.id);
    const c: Live = {
      row,
      spec,
      kind,
      open,
      recs: new Map(recs.map((r) => [r.deviceId, r])),
      info: await store.deviceInfo(recs.map((r) => r.deviceId)),
      counts: spec.phases.map(() => ({})),
      revertsOpen: 0,
      sentTimes: [],
      lastDynamicMs: 0,
      lastReconcileMs: 0,
    };
    for (const r of recs) countsAdd(c, r, 1);
    live.set(row.id, c);
    return c;
  }

  /** After a restart: settle claimed sends and pick up answers that arrived while we were away. */
  async function reconcile(c: Live) {
    for (const r of c.recs.values()) {
      if (!r.sending) continue;
      const cmd = await store.commandFor(r.deviceId, c.row.id, r.attempt);
      if (cmd) patchRec(c, r, { sending: false, commandId: cmd.id, state: 'sent', sentAt: cmd.issuedAt.getTime() });
      // Never created: a first send stays pending; a re-send after a deferral is due again.
      else patchRec(c, r, { sending: false, attempt: r.attempt - 1, ...(r.state === 'pending' ? {} : { nextAttemptAt: nowMs() }) });
    }
    const open = [...c.recs.values()].filter((r) => r.commandId && !isFinalDeviceState(r.state) && r.state !== 'pending');
    const cmds = await store.commandsById(open.map((r) => r.commandId!));
    const byId = new Map(cmds.map((x) => [x.id, x]));
    for (const r of open) {
      byCommand.set(r.commandId!, r);
      const cmd = byId.get(r.commandId!);
      if (cmd && !['pending', 'queued'].includes(cmd.state)) {
        onUpdate({ id: cmd.id, state: cmd.state, stage: cmd.stage, progress: cmd.progress, error: cmd.error, result: cmd.result });
      }
    }
    await flush();
  }

  // ---------- answers ----------

  function verdictFor(c: Live, r: DeviceRec, u: CommandUpdate): Verdict {
    switch (u.state) {
      case 'pending':
      case 'queued':
      case 'cancelled':
        return { outcome: 'ignore' };
      case 'sent':
        return { outcome: 'ignore' };
      case 'expired':
        return { outcome: 'failed', code: 'expired', message: 'the command expired before the device finished it', transient: true };
      default:
        return c.open.judge(u, { campaignId: c.row.id, deviceId: r.deviceId, attempt: r.attempt, action: r.action });
    }
  }

  function onUpdate(e: Pick<LiveEvents['command.updated'], 'id' | 'state' | 'stage' | 'progress' | 'error' | 'result'>) {
    const w = aborts.get(e.id);
    if (w) return onAbortAnswer(e.id, w, e.state, e.error?.code ?? null);
    const r = byCommand.get(e.id);
    if (!r) return;
    const c = live.get(r.campaignId);
    if (!c) return;
    const now = nowMs();
    if (e.state === 'sent' && r.lastHeardAt === null) patchRec(c, r, { lastHeardAt: now });
    const update: CommandUpdate = {
      commandId: e.id,
      state: e.state as CommandUpdate['state'],
      stage: e.stage,
      progress: e.progress,
      error: e.error,
      result: e.result,
    };
    const verdict = verdictFor(c, r, update);
    const patch = applyVerdict(r as DeviceRecord & DeviceRec, verdict, { retries: c.spec.retries, retryBaseMs, nowMs: now });
    if (!patch) return;
    if (isFinalDeviceState(patch.state ?? r.state) && !patch.reportedVersion && !r.reportedVersion) {
      patch.reportedVersion = deps.live.get(r.deviceId)?.fwVersion ?? null;
    }
    patchRec(c, r, patch);
    if (isFinalDeviceState(r.state) || r.state === 'pending') byCommand.delete(e.id);
    if (isFinalDeviceState(r.state)) {
      if (c.row.rollingBack && r.action === 'apply' && r.state === 'succeeded') startRevert(c, [r]);
      else patchRec(c, r, { active: false });
    }
    afterChange(c);
  }

  // ---------- after a cancel ----------

  /** A change to the record of a device whose campaign has ended (no counts to keep in memory). */
  function patchEnded(w: AbortWatch, patch: Partial<DeviceRec>) {
    const before = w.rec.state;
    Object.assign(w.rec, patch);
    dirty.add(w.rec);
    if (w.rec.state !== before)
      deps.bus.emit('campaign.device', {
        campaignId: w.rec.campaignId,
        kind: w.kind,
        deviceId: w.rec.deviceId,
        phase: w.rec.phase,
        state: w.rec.state,
        action: w.rec.action,
        progress: w.rec.progress,
        error: w.rec.error,
      });
  }

  function onAbortAnswer(id: string, w: AbortWatch, state: string, code: string | null) {
    const a = afterAbortAnswer(state, code);
    if (!a) return;
    aborts.delete(id);
    if (!a.watch) watched.delete(w);
    // Already settled by what the device reports (it finished first): that stands.
    if (w.rec.state === 'cancelled') patchEnded(w, { note: a.note });
    log.info({ campaign: w.rec.campaignId, deviceId: w.rec.deviceId, state, code }, 'device answered the abort request');
  }

  /** The server believes the version the device reports: a cancel that came too late is corrected. */
  function settleWatched() {
    const now = nowMs();
    for (const w of watched) {
      if (now > w.until) {
        watched.delete(w);
        continue;
      }
      const l = deps.live.get(w.rec.deviceId);
      if (!l?.online || !l.fwVersion || !w.open.isDone) continue;
      const device: CampaignDevice = {
        deviceId: w.rec.deviceId,
        model: w.info?.model ?? '',
        reportedVersion: l.fwVersion,
        labels: w.info?.labels ?? {},
        fromVersion: w.rec.fromVersion,
      };
      const patch = truthAfterCancel(w.rec, l.fwVersion, w.open.isDone(device));
      if (patch) {
        patchEnded(w, { ...patch, finishedAt: now });
        log.info({ campaign: w.rec.campaignId, deviceId: w.rec.deviceId, state: w.rec.state }, 'device record corrected after the cancel');
      }
    }
  }

  /** The error rule is checked on every answer, so a campaign stops at the exact answer that crosses it. */
  function afterChange(c: Live) {
    const d = decision(c);
    if (d.kind === 'trip')
      void trip(c, d).catch((err: unknown) => log.error({ err, campaign: c.row.id }, 'pausing on the error threshold failed'));
    else if (d.kind !== 'none') kick();
  }

  const view = (c: Live) => ({
    state: c.row.state,
    phasesStarted: c.row.phasesStarted,
    phases: c.counts,
    errorBaseline: c.row.errorBaseline,
    rollingBack: c.row.rollingBack,
    revertsOpen: c.revertsOpen,
    dynamic: c.spec.dynamic,
  });
  const decision = (c: Live): Decision => decide(view(c), c.spec);

  async function trip(c: Live, d: Extract<Decision, { kind: 'trip' }>) {
    if (c.row.state !== 'running') return;
    const tripped = {
      reason: 'error_threshold',
      phase: d.phase,
      ...d.tally,
      errorThreshold: c.spec.errorThreshold,
      at: new Date().toISOString(),
    };
    // In memory first and synchronously: no send may slip out after the crossing answer.
    c.row.state = 'paused';
    c.row.pausedReason = 'error_threshold';
    c.row.tripped = tripped;
    if (d.rollback) c.row.rollingBack = true;
    log.warn({ campaign: c.row.id, ...tripped }, 'campaign stopped at its error threshold');
    if (d.rollback) {
      const done = [...c.recs.values()].filter((r) => r.action === 'apply' && r.state === 'succeeded');
      startRevert(c, done);
    }
    await saveRow(c, { state: 'paused', pausedReason: 'error_threshold', tripped, rollingBack: c.row.rollingBack });
    await deps.audit.append({
      actor: null,
      action: 'campaign.error_threshold',
      target: c.row.id,
      data: { kind: c.kind.name, rollback: d.rollback, ...tripped },
    });
    emitCampaign(c, { reason: 'error_threshold' });
    kick();
  }

  function startRevert(c: Live, list: DeviceRec[]) {
    if (!c.open.revert) return;
    for (const r of list)
      patchRec(c, r, {
        action: 'revert',
        state: 'pending',
        nextAttemptAt: null,
        commandId: null,
        progress: null,
        finishedAt: null,
        active: true,
        note: 'rollback pending',
      });
  }

  // ---------- the tick ----------

  async function step(c: Live) {
    const now = nowMs();
    // Timeouts: a device that got its command and fell silent.
    for (const r of c.recs.values()) {
      if (isTimedOut(r, c.spec.deviceTimeoutS, now)) {
        const cmdId = r.commandId;
        patchRec(c, r, {
          state: 'timed_out',
          finishedAt: now,
          error: { code: 'timeout', message: `silent for over ${c.spec.deviceTimeoutS} s` },
          active: false,
        });
        if (cmdId) {
          byCommand.delete(cmdId);
          // Not asked to abort: if it finishes after all, deviceTruth counts it succeeded.
          await deps.commands.cancel(r.deviceId, cmdId, { abort: false }).catch(() => undefined);
        }
      }
    }
    // Deferred devices whose pause is over get the command again (a new one: the agent forgot the old).
    const again = [...c.recs.values()].filter(
      (r) => !r.sending && isDeferralDue(r, now) && (c.row.state === 'running' || r.action === 'revert'),
    );
    if (again.length) {
      for (const r of again) {
        const cmdId = r.commandId;
        if (cmdId) {
          byCommand.delete(cmdId);
          await deps.commands.cancel(r.deviceId, cmdId).catch(() => undefined);
        }
        patchRec(c, r, { deferrals: r.deferrals + 1, nextAttemptAt: null });
      }
      await send(c, again, now, false);
    }
    if (now - c.lastReconcileMs > RECONCILE_EVERY_MS) {
      c.lastReconcileMs = now;
      deviceTruth(c);
    }
    // Decisions, in order, until nothing changes.
    for (let guard = 0; guard < 50; guard++) {
      const d = decision(c);
      if (d.kind === 'none') break;
      if (d.kind === 'trip') await trip(c, d);
      else if (d.kind === 'start_phase') {
        const startedAt = [...c.row.phaseStartedAt, new Date(now).toISOString()];
        await saveRow(c, { phasesStarted: d.phase + 1, phaseStartedAt: startedAt });
        log.info({ campaign: c.row.id, phase: d.phase }, 'campaign phase started');
        emitCampaign(c, { reason: 'phase_started' });
      } else if (d.kind === 'finish') {
        await finish(c, d.state);
        return;
      }
    }
    if (c.row.state === 'running' && c.spec.dynamic && 'filter' in c.spec.target && now - c.lastDynamicMs > DYNAMIC_EVERY_MS) {
      c.lastDynamicMs = now;
      await addLateJoiners(c);
    }
    await sendDue(c, now);
  }

  /** Device-reported truth: a succeeded device that now reports something else rolled back; a timed-out one that reports the target succeeded. */
  function deviceTruth(c: Live) {
    if (!c.open.isDone) return;
    for (const r of c.recs.values()) {
      if (r.action !== 'apply' || (r.state !== 'succeeded' && r.state !== 'timed_out')) continue;
      const l = deps.live.get(r.deviceId);
      if (!l?.online || !l.fwVersion) continue;
      const done = c.open.isDone(deviceFor(c, r));
      // Back on the version it had (not moved on by a later rollout): it rolled back by itself.
      if (done === false && r.state === 'succeeded' && l.fwVersion === r.fromVersion)
        patchRec(c, r, { state: 'rolled_back', reportedVersion: l.fwVersion, note: `device now reports ${l.fwVersion}` });
      else if (done === true && r.state === 'timed_out')
        patchRec(c, r, { state: 'succeeded', reportedVersion: l.fwVersion, note: 'device reports the target after a timeout' });
    }
    afterChange(c);
  }

  async function sendDue(c: Live, now: number) {
    const rollingBack = c.row.rollingBack;
    if (c.row.state !== 'running' && !rollingBack) return;
    const due = [...c.recs.values()]
      .filter(
        (r) =>
          r.state === 'pending' &&
          !r.sending &&
          (r.nextAttemptAt === null || r.nextAttemptAt <= now) &&
          (rollingBack ? r.action === 'revert' : r.phase < c.row.phasesStarted),
      )
      .sort((a, b) => a.phase - b.phase || a.rank - b.rank);
    if (!due.length) return;
    c.sentTimes = c.sentTimes.filter((t) => now - t < 60_000);
    let budget = rollingBack ? Number.POSITIVE_INFINITY : sendBudget(c.spec.rate, c.row.phasesStarted - 1, c.sentTimes, now, tickMs);
    const batch: DeviceRec[] = [];
    for (const r of due) {
      if (budget <= 0) break;
      const dev = deviceFor(c, r);
      if (r.action === 'apply') {
        const info = c.info.get(r.deviceId);
        const skip = !info ? 'unknown_device' : info.status !== 'enrolled' ? `device_${info.status}` : c.open.screen(dev);
        if (skip) {
          patchRec(c, r, { state: 'skipped', note: skip, finishedAt: now, active: false, reportedVersion: dev.reportedVersion });
          continue;
        }
        if (!inWindow(c.spec.window, dev.labels.timezone ?? dev.labels.tz, now)) continue;
      }
      batch.push(r);
      budget--;
    }
    if (batch.length) await send(c, batch, now);
    afterChange(c);
  }

  async function send(c: Live, batch: DeviceRec[], now: number, counted = true) {
    // Claim first, durably: after a crash the command is found by (campaign, attempt) or was never made.
    for (const r of batch) {
      patchRec(c, r, {
        sending: true,
        attempt: r.attempt + 1,
        fromVersion: r.action === 'apply' ? (r.fromVersion ?? deviceFor(c, r).reportedVersion) : r.fromVersion,
      });
      if (counted) c.sentTimes.push(now);
    }
    await flush();
    await pool(batch, c.kind.sendConcurrency ?? SEND_CONCURRENCY, async (r) => {
      // Stopped meanwhile (error threshold, pause, cancel): what is not sent yet stays unsent.
      if (stopped || !live.has(c.row.id) || (r.action === 'apply' && c.row.state !== 'running')) {
        patchRec(c, r, { sending: false, attempt: r.attempt - 1, ...(r.state === 'pending' ? {} : { nextAttemptAt: nowMs() }) });
        return;
      }
      const ref = { campaignId: c.row.id, deviceId: r.deviceId, attempt: r.attempt, action: r.action };
      try {
        const dev = deviceFor(c, r);
        const spec = r.action === 'apply' ? await c.open.command(dev, ref) : await c.open.revert!(dev, ref);
        if ('unavailable' in spec) {
          patchRec(c, r, {
            sending: false,
            state: 'failed',
            finishedAt: nowMs(),
            note: `revert unavailable: ${spec.unavailable}`,
            active: false,
          });
          return;
        }
        const cmd = await deps.commands.create(r.deviceId, {
          type: spec.type,
          payload: { ...spec.payload, campaignId: c.row.id, attempt: r.attempt },
          ttlS: spec.ttlS,
          createdBy: c.row.createdBy,
        });
        byCommand.set(cmd.id, r);
        patchRec(c, r, {
          sending: false,
          commandId: cmd.id,
          state: 'sent',
          sentAt: nowMs(),
          lastHeardAt: null,
          progress: null,
          note: null,
          nextAttemptAt: null,
        });
      } catch (err) {
        log.warn({ err, campaign: c.row.id, deviceId: r.deviceId }, 'could not send a campaign command; will retry');
        patchRec(c, r, { sending: false, attempt: r.attempt - 1, nextAttemptAt: nowMs() + retryBaseMs });
      }
    });
    await flush();
  }

  async function addLateJoiners(c: Live) {
    if (!('filter' in c.spec.target)) return;
    const ids = await deps.devices.idsMatching(c.spec.target.filter, MAX_TARGET);
    const fresh = ids.filter((id) => !c.recs.has(id));
    if (!fresh.length) return;
    const busy = await store.busy(c.row.lane, fresh, c.row.id);
    const info = await store.deviceInfo(fresh);
    const phase = Math.max(0, c.row.phasesStarted - 1);
    for (const id of fresh) {
      if (busy.has(id) || !info.has(id)) continue;
      const row = { campaignId: c.row.id, deviceId: id, lane: c.row.lane, phase, rank: rankOf(c.row.seed, id) };
      try {
        await store.insertDevice(row);
      } catch (err) {
        if (isUniqueViolation(err)) continue;
        throw err;
      }
      const rec: DeviceRec = {
        ...row,
        state: 'pending',
        action: 'apply',
        attempt: 0,
        deferrals: 0,
        sending: false,
        commandId: null,
        nextAttemptAt: null,
        sentAt: null,
        lastHeardAt: null,
        finishedAt: null,
        progress: null,
        fromVersion: null,
        reportedVersion: null,
        note: 'joined late',
        error: null,
        active: true,
      };
      c.recs.set(id, rec);
      c.info.set(id, info.get(id)!);
      countsAdd(c, rec, 1);
    }
  }

  async function finish(c: Live, state: CampaignState) {
    if (finishing.has(c.row.id)) return;
    finishing.add(c.row.id);
    try {
      await finishNow(c, state);
    } finally {
      finishing.delete(c.row.id);
    }
  }

  async function finishNow(c: Live, state: CampaignState) {
    const now = nowMs();
    // In memory first and synchronously: while the records are settled below (each cancel awaits
    // the database), a tick must neither send nor read "everything is cancelled" as succeeded.
    c.row.state = state;
    for (const r of c.recs.values()) {
      if (r.active || !isFinalDeviceState(r.state)) {
        const cancel = !isFinalDeviceState(r.state);
        let asked = false;
        if (cancel && r.commandId) {
          byCommand.delete(r.commandId);
          // A device already working on it is asked to abort; its answer arrives after we are gone.
          const res = await deps.commands.cancelAndAbort(r.deviceId, r.commandId).catch(() => null);
          if (res?.abortId) {
            const w: AbortWatch = { rec: r, kind: c.kind.name, open: c.open, info: c.info.get(r.deviceId), until: now + ABORT_WATCH_MS };
            aborts.set(res.abortId, w);
            watched.add(w);
            asked = true;
          }
        }
        patchRec(c, r, {
          active: false,
          ...(cancel ? { state: 'cancelled' as CampaignDeviceState, finishedAt: now, sending: false } : {}),
          ...(asked ? { note: abortNotes.requested } : {}),
        });
      }
    }
    await flush();
    await saveRow(c, { state: state as CampaignRow['state'], finishedAt: new Date(now) });
    live.delete(c.row.id);
    log.info({ campaign: c.row.id, state }, 'campaign finished');
    emitCampaign(c, { reason: 'finished' });
  }

  let kicking = false;
  function kick() {
    if (!queue || kicking || stopped) return;
    kicking = true;
    queue
      .add('tick', {}, { deduplication: { id: 'tick-now' }, removeOnComplete: true, removeOnFail: true })
      .catch(() => undefined)
      .finally(() => (kicking = false));
  }

  async function tickAll() {
    for (const c of [...live.values()]) {
      try {
        await step(c);
      } catch (err) {
        log.error({ err, campaign: c.row.id }, 'campaign step failed');
      }
    }
    settleWatched();
    await flush();
  }

  // ---------- API ----------

  async function mustGet(id: string, kind: string): Promise<CampaignRow> {
    const row = live.get(id)?.row ?? (await store.campaign(id));
    if (!row || row.kind !== kind) throw notFound(`${kind} campaign ${id}`);
    return row;
  }

  async function resolveTarget(spec: CampaignSpec): Promise<string[]> {
    if ('deviceIds' in spec.target) {
      const wanted = [...new Set(spec.target.deviceIds)];
      const found = await deps.devices.existing(wanted);
      const missing = wanted.filter((d) => !found.has(d));
      if (missing.length)
        throw badRequest('unknown_devices', `${missing.length} device ids do not exist`, { missing: missing.slice(0, 100) });
      return wanted;
    }
    return deps.devices.idsMatching(spec.target.filter, MAX_TARGET);
  }

  async function summary(row: CampaignRow) {
    const c = live.get(row.id);
    const spec = campaignSpec.parse(row.spec);
    let counts: StateCounts[];
    let reverting = 0;
    if (c) {
      await flush();
      counts = c.counts;
      reverting = c.revertsOpen;
    } else {
      counts = spec.phases.map(() => ({}));
      for (const g of await store.countsFromDb(row.id)) {
        const st = g.state as CampaignDeviceState;
        if (g.action === 'revert' && !isFinalDeviceState(st)) reverting += g.n;
        else (counts[g.phase] ??= {})[st] = ((counts[g.phase] ??= {})[st] ?? 0) + g.n;
      }
    }
    const totals: StateCounts = {};
    for (const p of counts)
      for (const [s, n] of Object.entries(p)) totals[s as CampaignDeviceState] = (totals[s as CampaignDeviceState] ?? 0) + (n ?? 0);
    const kind = kinds.get(row.kind);
    return {
      id: row.id,
      kind: row.kind,
      name: row.name,
      state: row.state,
      pausedReason: row.pausedReason,
      tripped: row.tripped,
      rollingBack: row.rollingBack,
      seed: row.seed,
      summary: c?.open.summary ?? null,
      ...row.params,
      ...spec,
      phases: spec.phases.map((p, i) => {
        const t = tally(counts[i] ?? {});
        return {
          index: i,
          name: p.name,
          percent: p.percent,
          started: i < row.phasesStarted,
          startedAt: row.phaseStartedAt[i] ?? null,
          devices: Object.values(counts[i] ?? {}).reduce((a, b) => a + (b ?? 0), 0),
          counts: Object.fromEntries(Object.entries(counts[i] ?? {}).filter(([, n]) => n)),
          total: t.total,
          succeeded: t.succeeded,
          errors: t.errors,
          passed: i < row.phasesStarted && phasePassed(t, spec.successThreshold),
          overErrorThreshold: phaseTripped(t, spec.errorThreshold),
        };
      }),
      counts: Object.fromEntries(Object.entries(totals).filter(([, n]) => n)),
      reverting,
      kindLane: kind?.lane ?? row.lane,
      createdBy: row.createdBy,
      createdAt: row.createdAt,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    };
  }

  return {
    register(kind: CampaignKind) {
      kinds.set(kind.name, kind);
    },
    async start() {
      queue = deps.queues.queue(CAMPAIGN_QUEUE);
      for (const row of await store.campaignsIn(['running', 'paused'])) {
        try {
          await reconcile(await load(row));
        } catch (err) {
          log.error({ err, campaign: row.id }, 'could not load a campaign');
        }
      }
      offBus = deps.bus.on('command.updated', onUpdate);
      flushTimer = setInterval(() => void flush(), FLUSH_MS);
      deps.queues.worker(CAMPAIGN_QUEUE, () => tickAll(), { concurrency: 1 });
      await queue.upsertJobScheduler(
        'campaign-tick',
        { every: tickMs },
        { name: 'tick', opts: { removeOnComplete: true, removeOnFail: true } },
      );
      log.info({ campaigns: live.size }, 'campaign engine started');
    },
    async stop() {
      stopped = true;
      offBus?.();
      if (flushTimer) clearInterval(flushTimer);
      await flush();
    },
    flush,
    /** Runs one tick now (tests, and the worker). */
    tick: tickAll,

    async create(kindName: string, input: CreateCampaign, by: Principal) {
      const kind = kindOf(kindName);
      const spec = campaignSpec.parse(input.spec);
      const params = kind.params.parse(input.params);
      const id = newCampaignId();
      const open = await kind.open(params, id, spec);
      if (spec.onErrorThreshold === 'rollback' && !open.revert)
        throw unprocessable('rollback_unsupported', `${kind.name} campaigns cannot roll back`);
      if (spec.dynamic && !('filter' in spec.target))
        throw badRequest('validation_failed', 'dynamic needs a target filter', [
          { path: 'dynamic', message: 'dynamic campaigns target a filter' },
        ]);
      if ('deviceIds' in spec.target) {
        const ids = await resolveTarget(spec);
        const busy = await store.busy(kind.lane, ids);
        if (busy.size)
          throw conflict('device_busy', `${busy.size} devices are in another active ${kind.name} campaign`, {
            devices: [...busy].slice(0, 100),
          });
      }
      const row = await store.insertCampaign({
        id,
        kind: kind.name,
        lane: kind.lane,
        name: input.name,
        state: 'draft',
        params: params as Record<string, unknown>,
        spec: spec as unknown as Record<string, unknown>,
        seed: randomBytes(16).toString('hex'),
        createdBy: by.userId,
      });
      emitCampaign(row, { reason: 'created' });
      return summary(row);
    },

    async startCampaign(kindName: string, id: string) {
      const row = await mustGet(id, kindName);
      if (row.state === 'running' || row.state === 'paused' || row.state === 'succeeded' || row.state === 'failed') {
        if (row.state === 'running') return summary(row);
        throw conflict('invalid_state', `campaign ${id} is ${row.state}`);
      }
      if (row.state === 'cancelled') throw conflict('invalid_state', `campaign ${id} is cancelled`);
      const kind = kindOf(row.kind);
      const spec = campaignSpec.parse(row.spec);
      let ids = await resolveTarget(spec);
      const busy = await store.busy(kind.lane, ids, id);
      if (busy.size && 'deviceIds' in spec.target)
        throw conflict('device_busy', `${busy.size} devices are in another active ${kind.name} campaign`, {
          devices: [...busy].slice(0, 100),
        });
      ids = ids.filter((d) => !busy.has(d));
      if (!ids.length && !spec.dynamic) throw unprocessable('no_target', 'the target matches no device that is free');
      const draw = drawPhases(
        ids,
        row.seed,
        spec.phases.map((p) => p.percent),
      );
      const now = new Date();
      // Only one start wins: the state guard, then the members.
      const claimed = await deps.db.transaction(async (tx) => {
        const up = await tx
          .update(campaigns)
          .set({ state: 'running', phasesStarted: 1, phaseStartedAt: [now.toISOString()], startedAt: now, updatedAt: now })
          .where(and(eq(campaigns.id, id), eq(campaigns.state, 'draft')))
          .returning();
        return up[0];
      });
      if (!claimed) return summary((await store.campaign(id))!);
      try {
        await store.insertDevices(
          ids.map((d) => ({ campaignId: id, deviceId: d, lane: kind.lane, phase: draw.get(d)!.phase, rank: draw.get(d)!.rank })),
        );
      } catch (err) {
        await store.updateCampaign(id, { state: 'draft', phasesStarted: 0, phaseStartedAt: [], startedAt: null });
        if (isUniqueViolation(err)) throw conflict('device_busy', 'a target device joined another active campaign meanwhile');
        throw err;
      }
      const c = await load(claimed);
      emitCampaign(c, { reason: 'started' });
      kick();
      return summary(c.row);
    },

    async pause(kindName: string, id: string) {
      const row = await mustGet(id, kindName);
      const c = live.get(id);
      if (row.state === 'paused') return summary(row);
      if (row.state !== 'running' || !c) throw conflict('invalid_state', `campaign ${id} is ${row.state}`);
      await saveRow(c, { state: 'paused', pausedReason: 'operator' });
      emitCampaign(c, { reason: 'paused' });
      return summary(c.row);
    },

    async resume(kindName: string, id: string) {
      const row = await mustGet(id, kindName);
      const c = live.get(id);
      if (row.state === 'running') return summary(row);
      if (row.state !== 'paused' || !c) throw conflict('invalid_state', `campaign ${id} is ${row.state}`);
      if (c.row.rollingBack) throw conflict('rolling_back', `campaign ${id} is rolling back; it cannot resume`);
      // The errors an operator resumed past no longer trip the rule; new ones do.
      const baseline = c.counts.map((p) => tally(p).errors);
      await saveRow(c, { state: 'running', pausedReason: null, errorBaseline: baseline });
      emitCampaign(c, { reason: 'resumed' });
      kick();
      return summary(c.row);
    },

    async cancel(kindName: string, id: string) {
      const row = await mustGet(id, kindName);
      if (row.state === 'cancelled') return summary(row);
      if (row.state === 'succeeded' || row.state === 'failed') throw conflict('invalid_state', `campaign ${id} is ${row.state}`);
      const c = live.get(id);
      if (c) await finish(c, 'cancelled');
      else {
        await store.updateCampaign(id, { state: 'cancelled', finishedAt: new Date() });
        emitCampaign({ ...row, state: 'cancelled' }, { reason: 'finished' });
      }
      return summary((await store.campaign(id))!);
    },

    async get(kindName: string, id: string) {
      return summary(await mustGet(id, kindName));
    },

    async list(kindName: string, limit: number, cursor?: string) {
      const rows = await store.list(kindName, limit, cursor);
      const items = await Promise.all(rows.slice(0, limit).map((r) => summary(live.get(r.id)?.row ?? r)));
      const last = rows[limit - 1];
      return { items, nextCursor: rows.length > limit && last ? `${last.createdAt.toISOString()}|${last.id}` : null };
    },

    async devices(kindName: string, id: string, q: { limit: number; cursor?: string; state?: string; phase?: number }) {
      await mustGet(id, kindName);
      await flush();
      const rows = await store.pageDevices(id, q);
      const c = live.get(id);
      const items = rows.slice(0, q.limit).map((row) => {
        const rec = c?.recs.get(row.deviceId);
        return rec
          ? recView(rec)
          : recView({
              ...row,
              state: row.state as CampaignDeviceState,
              nextAttemptAt: row.nextAttemptAt?.getTime() ?? null,
              sentAt: row.sentAt?.getTime() ?? null,
              lastHeardAt: row.lastHeardAt?.getTime() ?? null,
              finishedAt: row.finishedAt?.getTime() ?? null,
            });
      });
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && last ? last.deviceId : null };
    },

    /** For tests and metrics: in-flight devices of a running campaign. */
    inFlight(id: string): number {
      const c = live.get(id);
      return c ? [...c.recs.values()].filter((r) => inFlightDeviceStates.includes(r.state)).length : 0;
    },
  };
}

export type CampaignEngine = ReturnType<typeof createCampaignEngine>;
