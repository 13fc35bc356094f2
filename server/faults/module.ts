// The faults domain (SPEC §7) as a server module: rules evaluated on the ingest path, faults and
// their lifecycle, the triage API, diagnostics, log bundles, the webhook notifier, metrics.
import { eq } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import { devices } from '../../schemas/db.ts';
import { faultRuleSet, type FaultRule } from '../../schemas/faults.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { defaultRules } from './defaultRules.ts';
import { registerDeviceJobRoutes } from './deviceJobRoutes.ts';
import { createDiagnostics } from './diagnostics.ts';
import { createFaultQueries } from './faultQueries.ts';
import { registerFaultRoutes, type RulesControl } from './faultRoutes.ts';
import { createFaultService } from './faultService.ts';
import { createLogBundles } from './logBundles.ts';
import { createNotifier } from './notifier.ts';
import { createRuleEngine } from './ruleEngine.ts';
import { createSettingsStore } from './settingsStore.ts';
import { createInvalidations, onModuleInvalidated } from '../cluster/invalidation.ts';

/** Log bundles are kept this long, then deleted (files and rows). */
export const LOG_BUNDLE_RETENTION_DAYS = 30;

export interface FaultsModuleOptions {
  /** Webhook retry policy (tests shorten it). */
  notifyAttempts?: number;
  notifyBackoffMs?: number;
  /** How often to pick up rule/notifier edits and fault changes made by other instances. */
  reconcileIntervalMs?: number;
}

export function createFaultsModule(ctx: ModuleContext, opts: FaultsModuleOptions = {}): ServerModule & { readonly internals: FaultsInternals } {
  const { db, log, config } = ctx;
  // Rules and notifier edits reach the other instances at once; the reconcile below is the net.
  const announce = createInvalidations(ctx.cluster.link);
  const settings = createSettingsStore(db, { changed: (key) => announce.module('faults', [key]) });
  const notifier = createNotifier({
    queues: ctx.queues,
    settings,
    log,
    metrics: ctx.metrics,
    env: { url: config.FAULT_WEBHOOK_URL, minSeverity: config.FAULT_WEBHOOK_MIN_SEVERITY, secret: config.FAULT_WEBHOOK_SECRET },
    attempts: opts.notifyAttempts,
    backoffMs: opts.notifyBackoffMs,
  });
  const service = createFaultService({ db, bus: ctx.bus, timeline: ctx.timeline, audit: ctx.audit, notifier, log });
  const engine = createRuleEngine(defaultRules(), service.sink);
  const queries = createFaultQueries(db);
  const diagnostics = createDiagnostics({ db, commands: ctx.commands, bus: ctx.bus, timeline: ctx.timeline, log, metrics: ctx.metrics });
  const logs = createLogBundles({
    db,
    commands: ctx.commands,
    bus: ctx.bus,
    timeline: ctx.timeline,
    hasher: ctx.hasher,
    log,
    dataDir: ctx.sharedDir,
    httpUrl: ctx.httpUrl,
    maxBytes: config.LOG_BUNDLE_MAX_BYTES,
  });

  let rulesMeta: { source: 'default' | 'stored'; updatedAt: Date | null; updatedBy: string | null } = { source: 'default', updatedAt: null, updatedBy: null };
  const timers: NodeJS.Timeout[] = [];
  const unsubscribe: (() => void)[] = [];
  let sweepTimer: NodeJS.Timeout | undefined;

  function scheduleSweep() {
    if (sweepTimer) clearInterval(sweepTimer);
    sweepTimer = undefined;
    const every = engine.sweepIntervalMs();
    if (every !== null) sweepTimer = setInterval(() => engine.sweep(Date.now()), every);
  }

  function applyRules(rules: readonly FaultRule[]) {
    engine.setRules(rules);
    scheduleSweep();
  }

  async function loadRules() {
    const stored = await settings.get('rules');
    if (!stored) return;
    const parsed = faultRuleSet.safeParse(stored.value);
    if (!parsed.success) {
      log.error({ issues: parsed.error.issues }, 'stored fault rules are invalid; keeping the current ones');
      return;
    }
    rulesMeta = { source: 'stored', updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
    applyRules(parsed.data.rules);
  }

  const rules: RulesControl = {
    current: () => ({
      rules: [...engine.rules()],
      source: rulesMeta.source,
      updatedAt: rulesMeta.updatedAt?.toISOString() ?? null,
      updatedBy: rulesMeta.updatedBy,
    }),
    async replace(next, by, inTx) {
      const updatedAt = await settings.put('rules', { rules: next }, by, inTx);
      rulesMeta = { source: 'stored', updatedAt, updatedBy: by };
      applyRules(next);
    },
  };

  /** Picks up edits made through another instance, and its fault changes. */
  async function reconcile() {
    const versions = await settings.versions(['rules', 'notifier']);
    const rulesAt = versions.get('rules');
    if (rulesAt !== undefined && rulesAt !== rulesMeta.updatedAt?.getTime()) await loadRules();
    if (versions.has('notifier')) await notifier.reload();
    await service.reconcile();
  }

  new Gauge({
    name: 'posfleet_faults_open',
    help: 'Unresolved faults by severity',
    labelNames: ['severity'],
    registers: [ctx.metrics.registry],
    collect() {
      for (const [severity, n] of Object.entries(service.openBySeverity())) this.set({ severity }, n);
    },
  });

  const internals = { service, engine, notifier, diagnostics, logs, queries };

  return {
    name: 'faults',
    // A log bundle upload: the signed link is the credential, LOG_BUNDLE_MAX_BYTES the limit.
    routeExemptions: [{ methods: ['PUT'], path: '/v1/uploads/logs/:bundleId', skip: ['auth', 'bodyLimit'] }],
    internals,
    routes(app) {
      registerFaultRoutes(app, { db, service, queries, rules, notifier, audit: ctx.audit });
      registerDeviceJobRoutes(app, { devices: ctx.devices, diagnostics, logs, audit: ctx.audit });
    },
    async start() {
      await loadRules();
      await notifier.start();
      const loaded = await service.load();
      // Devices offline at start count from now: the fleet gets the threshold to reconnect.
      const now = Date.now();
      const enrolled = new Set((await db.select({ id: devices.id }).from(devices).where(eq(devices.status, 'enrolled'))).map((r) => r.id));
      for (const d of ctx.live.all()) if (!d.online && enrolled.has(d.deviceId)) engine.seedOffline(d.deviceId, now);
      unsubscribe.push(diagnostics.start(), logs.start());
      unsubscribe.push(
        onModuleInvalidated(
          ctx.cluster.link,
          'faults',
          async (keys) => {
            if (!keys || keys.includes('rules')) await loadRules();
            if (!keys || keys.includes('notifier')) await notifier.reload();
          },
          log,
        ),
      );
      unsubscribe.push(
        // Merchant rules (relocation, transaction limits) arrive as alerts.
        ctx.bus.on('device.alert', (a) => engine.alert(a.deviceId, a.code, a.open, a.summary, Date.now())),
        ctx.bus.on('device.revoked', (d) => engine.forget(d.deviceId)),
      );
      const flushEvery = Math.max(100, Math.min(config.FLUSH_INTERVAL_MS, 1000));
      timers.push(setInterval(() => void Promise.all([service.flush(), diagnostics.tick()]), flushEvery));
      timers.push(
        setInterval(
          () => void reconcile().catch((err: unknown) => log.warn({ err }, 'fault reconcile failed')),
          opts.reconcileIntervalMs ?? 30_000,
        ),
      );
      const purge = () =>
        void logs
          .purge(new Date(Date.now() - LOG_BUNDLE_RETENTION_DAYS * 86_400_000))
          .then((n) => n && log.info({ purged: n }, 'old log bundles deleted'))
          .catch((err: unknown) => log.warn({ err }, 'log bundle purge failed'));
      timers.push(setInterval(purge, 3600_000));
      scheduleSweep();
      log.info({ open: loaded, rules: engine.rules().length }, 'faults module started');
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      if (sweepTimer) clearInterval(sweepTimer);
      for (const off of unsubscribe) off();
      // The job queues are closed by now: keep the rows, not the notifications.
      await service.flush({ notify: false });
      await diagnostics.flush().catch(() => undefined);
    },
    onHealth(deviceId, sample) {
      engine.health(deviceId, sample);
    },
    onEvent(deviceId, event) {
      engine.event(deviceId, event);
    },
    onPresence(change) {
      engine.presence(change.deviceId, change.online, Date.now());
    },
    // The terminal's samples and presence now reach another instance, whose rules take over.
    onMoved(deviceId) {
      engine.forget(deviceId);
    },
  };
}

export interface FaultsInternals {
  service: ReturnType<typeof createFaultService>;
  engine: ReturnType<typeof createRuleEngine>;
  notifier: ReturnType<typeof createNotifier>;
  diagnostics: ReturnType<typeof createDiagnostics>;
  logs: ReturnType<typeof createLogBundles>;
  queries: ReturnType<typeof createFaultQueries>;
}
