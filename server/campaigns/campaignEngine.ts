// The campaign engine: applies the pure rules (campaignRules.ts, phaseConditions.ts) to campaigns
// of any kind. The database is the truth (campaigns, campaign_devices); running campaigns are
// also held in memory (runningCampaign.ts) so acks at fleet speed do not each wait on the
// database: member records are written behind every FLUSH_MS (memberRecords.ts). A tick every
// TICK_MS applies the decisions (campaignTick.ts, run by campaignTicker.ts); answers arrive on
// the bus (memberAnswers.ts); sends are claimed before they are made (memberSends.ts). In a
// cluster each campaign has one leader (campaignLeadership.ts) and controls reach it
// (campaignRouting.ts); summaries and member lists are read by campaignReads.ts. This file wires
// those parts and holds the API the routes and the kinds' modules use.
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { MAX_TARGET, campaignSpec, type CampaignSpec } from '../../schemas/campaigns.ts';
import { campaigns, type CampaignDeviceRecord, type CampaignRow, type CampaignState } from '../../schemas/tables/campaigns.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import { newId } from '../core/ids.ts';
import type { InTx, Tx } from '../core/transaction.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { createPgLeases, createSoloLeases, type Leases } from '../cluster/leases.ts';
import type { Db } from '../db/database.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import { badRequest, conflict, unprocessable } from '../errors.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Principal } from '../http/types.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import { createAbortWatch } from './abortWatch.ts';
import type { CampaignKind } from './campaignKind.ts';
import { createCampaignLeadership } from './campaignLeadership.ts';
import { createCampaignLifecycle } from './campaignLifecycle.ts';
import { createCampaignLoader } from './campaignLoader.ts';
import { createCampaignMetrics } from './campaignMetrics.ts';
import { drawPhases, tally } from './campaignRules.ts';
import { createControlRouting, type ControlActor } from './campaignRouting.ts';
import type { OrgScope } from '../orgs/scope.ts';
import { createCampaignReads } from './campaignReads.ts';
import { createMaintenanceWindowStore } from './maintenanceWindowStore.ts';
import { createScheduledStarts } from './scheduledStarts.ts';
import { createCampaignStore } from './campaignStore.ts';
import type { CampaignSummary } from './campaignSummary.ts';
import { createCampaignTick } from './campaignTick.ts';
import { createLocalTicker, createQueueTicker } from './campaignTicker.ts';
import { createMemberAnswers } from './memberAnswers.ts';
import { createMemberRecords } from './memberRecords.ts';
import { createMemberSends } from './memberSends.ts';
import { effectiveState, emitCampaign, type RunningCampaign, type RunningCampaigns } from './runningCampaign.ts';

export { CAMPAIGN_QUEUE } from './campaignTicker.ts';
const FLUSH_MS = 100;

export interface CampaignEngineDeps {
  db: Db;
  queues: JobQueues;
  bus: EventBus;
  commands: CommandService;
  devices: DeviceService;
  /** Presence and the versions devices report (server/telemetry). */
  liveState: LiveState;
  audit: AuditLog;
  log: Logger;
  metrics: Metrics;
  /** First retry delay; doubles per attempt (schemas/retry.ts campaignRetry). */
  retryBaseMs?: number;
  tickMs?: number;
  /** Cluster mode: campaigns get one leader each; absent or solo, this instance leads every campaign. */
  cluster?: Pick<Cluster, 'clustered' | 'instanceId' | 'link'>;
  /** The PostgreSQL the leases are taken on (cluster mode has one). */
  databaseUrl?: string;
}

export interface CreateCampaign {
  name: string;
  spec: unknown;
  params: unknown;
}

const newCampaignId = () => newId('cmp');

export function createCampaignEngine(deps: CampaignEngineDeps) {
  const { log } = deps;
  const retryBaseMs = deps.retryBaseMs ?? 30_000;
  const tickMs = deps.tickMs ?? 1000;
  const store = createCampaignStore(deps.db);
  const maintenance = createMaintenanceWindowStore({ db: deps.db, log });
  const kinds = new Map<string, CampaignKind>();
  const running: RunningCampaigns = new Map();
  const byCommand = new Map<string, CampaignDeviceRecord>();
  let flushTimer: NodeJS.Timeout | undefined;
  let offBus: (() => void) | undefined;
  let stopped = false;

  function kindOf(name: string): CampaignKind {
    const k = kinds.get(name);
    if (!k) throw new Error(`no campaign kind ${name}`);
    return k;
  }

  const clustered = Boolean(deps.cluster?.clustered);
  if (clustered && !deps.databaseUrl) throw new Error('cluster mode needs DATABASE_URL for campaign leases');
  const leases: Leases =
    clustered && deps.cluster && deps.databaseUrl
      ? createPgLeases({ databaseUrl: deps.databaseUrl, instanceId: deps.cluster.instanceId, log })
      : createSoloLeases(deps.cluster?.instanceId ?? 'solo');
  const kick = () => ticker.kick();

  const metrics = createCampaignMetrics(deps.metrics.registry, () => running.values());
  const records = createMemberRecords({ store, bus: deps.bus, log, metrics, drops: deps.metrics });
  const aborts = createAbortWatch({ records, liveState: deps.liveState, log });
  const lifecycle = createCampaignLifecycle({
    running,
    byCommand,
    records,
    aborts,
    commands: deps.commands,
    audit: deps.audit,
    bus: deps.bus,
    log,
    kick,
    sendsSettled: (c) => sends.settled(c),
  });
  const sends = createMemberSends({
    running,
    byCommand,
    records,
    lifecycle,
    commands: deps.commands,
    liveState: deps.liveState,
    log,
    retryBaseMs,
    tickMs,
    isStopped: () => stopped,
    windows: maintenance.windows,
  });
  const onCommandChange = createMemberAnswers({ running, byCommand, records, lifecycle, aborts, liveState: deps.liveState, retryBaseMs });
  const loader = createCampaignLoader({ store, devices: deps.devices, running, byCommand, records, kindOf, onCommandChange });
  const tick = createCampaignTick({
    running,
    byCommand,
    records,
    lifecycle,
    sends,
    loader,
    aborts,
    commands: deps.commands,
    liveState: deps.liveState,
    bus: deps.bus,
    log,
  });
  const ticker = clustered
    ? createLocalTicker({ queues: deps.queues, tickMs, tick, log })
    : createQueueTicker({ queues: deps.queues, tickMs, tick });
  const leadership = clustered ? createCampaignLeadership({ running, byCommand, leases, store, loader, records, log, kick }) : undefined;

  const reads = createCampaignReads({ store, running, records, laneOf: (name) => kinds.get(name)?.lane });
  const { mustGet, summary } = reads;

  /** `scope`: the caller's subtree (server/orgs/scope.ts); a terminal outside it is treated exactly like a missing one. */
  async function resolveTarget(spec: CampaignSpec, scope?: OrgScope): Promise<string[]> {
    if ('deviceIds' in spec.target) {
      const wanted = [...new Set(spec.target.deviceIds)];
      const found = await deps.devices.existing(wanted, scope);
      const missing = wanted.filter((d) => !found.has(d));
      if (missing.length)
        throw badRequest('unknown_devices', `${missing.length} device ids do not exist`, { missing: missing.slice(0, 100) });
      return wanted;
    }
    return deps.devices.idsForTarget(spec.target, MAX_TARGET, { scope });
  }

  const busyConflict = (n: number, kind: string, devices: Set<string>) =>
    conflict('device_busy', `${n} devices are in another active ${kind} campaign`, { devices: [...devices].slice(0, 100) });

  /** An operator's control's audit entry, for the transaction of the change it records. */
  const controlEntry = (by: ControlActor | undefined, id: string, from: CampaignState, to: CampaignState) =>
    by ? (tx: Tx) => deps.audit.append({ actor: by.actor, action: by.action, target: id, ip: by.ip, data: { from, to } }, tx) : undefined;

  /** The state the controls act on: a campaign whose finish is under way is finished for them. */
  const controlState = (row: CampaignRow) => {
    const c = running.get(row.id);
    return c ? effectiveState(c) : row.state;
  };

  /**
   * Pause and resume: nothing to do at `to` already; refused unless the campaign is at `from` and
   * running in memory; `apply` checks what else it must and saves the change, then it is announced.
   */
  async function pauseOrResume(
    kindName: string,
    id: string,
    move: { from: CampaignState; to: CampaignState; reason: 'paused' | 'resumed' },
    apply: (c: RunningCampaign, entry: InTx | undefined) => Promise<void>,
    by: ControlActor | undefined,
  ): Promise<CampaignSummary> {
    const row = await mustGet(id, kindName);
    const c = running.get(id);
    const state = controlState(row);
    if (state === move.to) return summary(row);
    if (state !== move.from || !c) throw conflict('invalid_state', `campaign ${id} is ${state}`);
    await apply(c, controlEntry(by, id, move.from, move.to));
    emitCampaign(deps.bus, c, { reason: move.reason });
    return summary(c.row);
  }

  /**
   * The controls as the leader runs them (campaignRouting.ts brings them to it), each change
   * stored in one transaction with the audit entry of `by`.
   */
  const controls = {
    async start(kindName: string, id: string, by?: ControlActor) {
      const row = await mustGet(id, kindName);
      if (row.state === 'running') return summary(row);
      if (row.state !== 'draft') throw conflict('invalid_state', `campaign ${id} is ${row.state}`);
      const kind = kindOf(row.kind);
      const spec = campaignSpec.parse(row.spec);
      let ids = await resolveTarget(spec, await store.ownerScope(row.createdBy));
      const busy = await store.busy(kind.lane, ids, id);
      if (busy.size && 'deviceIds' in spec.target) throw busyConflict(busy.size, kind.name, busy);
      ids = ids.filter((d) => !busy.has(d));
      if (!ids.length && !spec.dynamic) throw unprocessable('no_target', 'the target matches no device that is free');
      const draw = drawPhases(
        ids,
        row.seed,
        spec.phases.map((p) => p.percent),
      );
      const now = new Date();
      const members = [...draw].map(([deviceId, p]) => ({ campaignId: id, deviceId, lane: kind.lane, phase: p.phase, rank: p.rank }));
      const entry = controlEntry(by, id, 'draft', 'running');
      // Only one start wins: the state guard, then the members and the entry, all in one transaction.
      let claimed: CampaignRow | undefined;
      try {
        claimed = await deps.db.transaction(async (tx) => {
          const [won] = await tx
            .update(campaigns)
            .set({ state: 'running', phasesStarted: 1, phaseStartedAt: [now.toISOString()], startedAt: now, updatedAt: now })
            .where(and(eq(campaigns.id, id), eq(campaigns.state, 'draft')))
            .returning();
          if (!won) return undefined;
          await store.insertDevices(members, tx);
          await entry?.(tx);
          return won;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('device_busy', 'a target device joined another active campaign meanwhile', undefined, { cause: err });
        throw err;
      }
      if (!claimed) return summary((await store.campaign(id))!);
      const c = await loader.load(claimed);
      emitCampaign(deps.bus, c, { reason: 'started' });
      kick();
      return summary(c.row);
    },

    async pause(kindName: string, id: string, by?: ControlActor) {
      const move = { from: 'running', to: 'paused', reason: 'paused' } as const;
      return pauseOrResume(kindName, id, move, (c, entry) => records.saveRow(c, { state: 'paused', pausedReason: 'operator' }, entry), by);
    },

    async resume(kindName: string, id: string, by?: ControlActor) {
      const move = { from: 'paused', to: 'running', reason: 'resumed' } as const;
      return pauseOrResume(
        kindName,
        id,
        move,
        async (c, entry) => {
          if (c.row.rollingBack) throw conflict('rolling_back', `campaign ${id} is rolling back; it cannot resume`);
          // The errors an operator resumed past no longer trip the rule; new ones do.
          const baseline = c.counts.map((p) => tally(p).errors);
          await records.saveRow(c, { state: 'running', pausedReason: null, errorBaseline: baseline }, entry);
          kick();
        },
        by,
      );
    },

    async cancel(kindName: string, id: string, by?: ControlActor) {
      const row = await mustGet(id, kindName);
      const c = running.get(id);
      const state = controlState(row);
      // A cancel whose final write failed is cancelled for the engine but not stored: done again.
      if (state === 'cancelled' && !(c && lifecycle.stalled(c))) return summary(row);
      if (state === 'succeeded' || state === 'failed') throw conflict('invalid_state', `campaign ${id} is ${state}`);
      const entry = controlEntry(by, id, row.state, 'cancelled');
      if (c) await lifecycle.finish(c, 'cancelled', entry);
      else {
        await store.updateCampaign(id, { state: 'cancelled', finishedAt: new Date() }, entry);
        emitCampaign(deps.bus, { ...row, state: 'cancelled' }, { reason: 'finished' });
      }
      return summary((await store.campaign(id))!);
    },
  };
  const route = createControlRouting({
    cluster: leadership && deps.cluster ? { leadership, link: deps.cluster.link } : undefined,
    controls,
    readBack: async (kindName, id) => summary(await mustGet(id, kindName)),
  });
  const scheduled = createScheduledStarts({
    queues: deps.queues,
    audit: deps.audit,
    log,
    drafts: () => store.campaignsIn(['draft']),
    start: (kindName, id, by) => route('start', kindName, id, by),
  });

  return {
    register(kind: CampaignKind) {
      kinds.set(kind.name, kind);
    },
    async start() {
      // In a cluster only the campaigns whose lease this instance wins (campaignLeadership.ts).
      if (leadership) await leadership.start();
      else
        for (const row of await store.campaignsIn(['running', 'paused'])) {
          try {
            await loader.reconcile(await loader.load(row));
          } catch (err) {
            log.error({ err, campaign: row.id }, 'could not load a campaign');
          }
        }
      // Answers reach the leader from whichever instance holds the terminal (alone, the same as `on`).
      offBus = deps.bus.onCluster('command.updated', onCommandChange);
      flushTimer = setInterval(() => void records.tick(), FLUSH_MS);
      await maintenance.start();
      await ticker.start();
      await scheduled.start();
      log.info({ campaigns: running.size }, 'campaign engine started');
    },
    async stop() {
      stopped = true;
      await scheduled.stop();
      await leadership?.stopClaims();
      maintenance.stop();
      offBus?.();
      if (flushTimer) clearInterval(flushTimer);
      await ticker.stop();
      await records.flush();
      // Only once everything is written: the next leader loads it from the database.
      await leases.stop();
    },
    flush: records.flush,
    /** Runs one tick now (tests, and the worker). */
    tick,

    /** `inTx` (the audit entry) runs in the insert's transaction: both commit or neither. */
    async create(kindName: string, input: CreateCampaign, by: Principal, inTx?: (tx: Tx, row: CampaignRow) => Promise<unknown>) {
      const kind = kindOf(kindName);
      const spec = campaignSpec.parse(input.spec);
      const params = kind.params.parse(input.params);
      const id = newCampaignId();
      if (spec.startAt && Date.parse(spec.startAt) <= Date.now())
        throw badRequest('validation_failed', 'startAt is not in the future', [{ path: 'startAt', message: 'must be a future instant' }]);
      const open = await kind.open(params, id, spec);
      if (spec.onErrorThreshold === 'rollback' && !open.revert)
        throw unprocessable('rollback_unsupported', `${kind.name} campaigns cannot roll back`);
      if (spec.dynamic && 'deviceIds' in spec.target)
        throw badRequest('validation_failed', 'dynamic needs a target that can match more terminals later', [
          { path: 'dynamic', message: 'dynamic campaigns target a filter, filterId, groupId or query' },
        ]);
      if ('deviceIds' in spec.target) {
        const busy = await store.busy(kind.lane, await resolveTarget(spec, by));
        if (busy.size) throw busyConflict(busy.size, kind.name, busy);
      }
      // A query that does not parse, a group or filter unknown to the caller: refused now, not at start.
      else if (!('filter' in spec.target)) await deps.devices.idsForTarget(spec.target, 1, { scope: by });
      const draft = { id, kind: kind.name, lane: kind.lane, name: input.name, state: 'draft' as const, params, spec, seed: randomBytes(16).toString('hex'), createdBy: by.userId };
      const row = await deps.db.transaction(async (tx) => {
        const r = await store.insertCampaign(draft, tx);
        await inTx?.(tx, r);
        return r;
      });
      emitCampaign(deps.bus, row, { reason: 'created' });
      if (spec.startAt) await scheduled.schedule(row.id, row.kind, spec.startAt);
      return summary(row);
    },

    /** `by`: the operator whose audit entry commits with the change (absent for the server's own start of a policy rotation). */
    startCampaign: (kindName: string, id: string, by?: ControlActor) => route('start', kindName, id, by),
    pause: (kindName: string, id: string, by?: ControlActor) => route('pause', kindName, id, by),
    resume: (kindName: string, id: string, by?: ControlActor) => route('resume', kindName, id, by),
    cancel: (kindName: string, id: string, by?: ControlActor) => route('cancel', kindName, id, by),

    get: reads.get,
    list: reads.list,
    devices: reads.devices,
    failures: reads.failures,
    /** The recurring maintenance windows its sends honour (routes: campaignModule). */
    maintenanceWindows: maintenance,
    inFlight: reads.inFlight,

    // ---------- read API for the kinds' modules (they never query campaign tables) ----------

    campaignOfCommand: reads.campaignOfCommand,
    /** Devices among `ids` already in an active campaign of this kind's lane. */
    busyDevices: (kindName: string, ids: readonly string[]) => store.busy(kindOf(kindName).lane, ids),
  };
}

export type CampaignEngine = ReturnType<typeof createCampaignEngine>;
