// Wires the whole server from its parts. No hidden singletons: a test can start several on
// free ports and stop each cleanly.
import type { Server as HttpServer } from 'node:http';
import { resolve, join } from 'node:path';
import { createAuditLog } from './audit/auditLog.ts';
import { createAuthService } from './auth/authService.ts';
import { createMqttBroker, type MqttBroker } from './broker/mqttBroker.ts';
import { createCampaignEngine } from './campaigns/campaignEngine.ts';
import { createCommandService } from './commands/commandService.ts';
import { createCommandTracker } from './commands/commandTracker.ts';
import { mountCoreRoutes } from './coreRoutes.ts';
import { createCluster } from './cluster/cluster.ts';
import { createEventRelay } from './cluster/eventRelay.ts';
import { createPresence } from './cluster/presence.ts';
import { createInvalidations, wireInvalidation } from './cluster/invalidation.ts';
import { brokerJoin } from './cluster/brokerJoin.ts';
import { queuePrefix, type Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { createCredentialCache } from './devices/credentialCache.ts';
import { createDeviceService } from './devices/deviceService.ts';
import { createTimelineWriter } from './devices/timelineWriter.ts';
import { createEventBus } from './events/eventBus.ts';
import { createIngest } from './telemetry/ingest.ts';
import { createLiveState } from './telemetry/liveState.ts';
import { restoreLiveState } from './telemetry/restore.ts';
import { createStateWriter } from './telemetry/stateWriter.ts';
import { trustedProxies } from './http/clientAddress.ts';
import { createHttpApp, createRouter } from './http/httpApp.ts';
import { purgeIdempotencyKeys } from './http/idempotency.ts';
import { listenBroker, listenHttp, publicHost, tlsFiles } from './listeners.ts';
import { createJobQueues } from './jobs/jobQueues.ts';
import { resolveRedis, type ResolvedRedis } from './jobs/redisResolver.ts';
import { createLogger, type Logger } from './log.ts';
import type { ModuleContext, ServerModule } from './moduleContract.ts';
import { moduleFactories } from './modules.ts';
import { createMetrics } from './metrics.ts';
import { startEventLoopMonitor } from './ops/eventLoopMonitor.ts';
import { loadBindingKey } from './security/bindingKey.ts';
import { loadEnrollToken } from './security/enrollToken.ts';
import { ensurePrivateDir } from './security/privateDir.ts';
import { createSecretHasher, generateSecret, loadPepper } from './security/secretHasher.ts';
import { createTerminalControl } from './terminalControl/terminalControl.ts';

export const VERSION = '0.1.0';

export interface StartedServer {
  httpPort: number;
  /** Plain MQTT; absent with TLS_ONLY. */
  mqttPort?: number;
  mqttsPort?: number;
  wsPort?: number;
  httpUrl: string;
  mqttUrl: string;
  /** Printed once on the first start when no ADMIN_TOKEN was given. */
  adminToken?: string;
  enrollToken: string;
  enrollTokenCreated: boolean;
  redis: ResolvedRedis;
  databaseKind: Database['kind'];
  /** This instance's id when it runs in a cluster. */
  instanceId?: string;
}

export interface PosfleetServer {
  start(): Promise<StartedServer>;
  stop(): Promise<void>;
  /** Parts a test or a later module reaches into. Valid after start(). */
  readonly parts: Parts;
}

type Parts = Awaited<ReturnType<typeof assemble>>;

async function assemble(config: Config, log: Logger) {
  const dataDir = resolve(config.DATA_DIR);
  ensurePrivateDir(dataDir);
  // PGlite writes its files with the umask's modes: its own 0700 directory keeps them private.
  if (!config.DATABASE_URL) ensurePrivateDir(join(dataDir, 'db'));
  const metrics = createMetrics();
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: join(dataDir, 'db') });
  const { db } = database;
  const hasher = createSecretHasher(loadPepper({ dataDir, fromEnv: config.SECRET_PEPPER }));
  const redis = await resolveRedis({ url: config.REDIS_URL, dataDir, log });
  const queues = createJobQueues({ redisUrl: redis.url, prefix: queuePrefix(config), log, metrics });
  const cluster = createCluster({ config, redisUrl: redis.url, prefix: `{${queuePrefix(config)}}`, log });
  const bus = createEventBus();
  const relay = createEventRelay({ bus, link: cluster.link });
  const invalidations = createInvalidations(cluster.link);
  const live = createLiveState({ historyIntervalMs: config.HEALTH_HISTORY_INTERVAL_S * 1000, instanceId: cluster.instanceId });
  const timeline = createTimelineWriter({ db, log, metrics });
  const credentials = createCredentialCache({ db, verify: hasher.verify });
  const stateWriter = createStateWriter({ db, live, log, metrics, isKnown: credentials.isKnown, instanceId: cluster.clustered ? cluster.instanceId : undefined });
  const enroll = loadEnrollToken({ dataDir, fromEnv: config.ENROLL_TOKEN });
  const bindingKey = loadBindingKey({ dataDir, pem: config.BINDING_SIGNING_KEY });
  const auth = createAuthService({ db, hasher, log, invalidated: invalidations.principal });
  const audit = createAuditLog({ db, log });

  let broker: MqttBroker | undefined;
  const brokerRef = {
    isCommandReady: (id: string) => broker?.isCommandReady(id) ?? false,
    sendCommand: (id: string, msg: object) => (broker ? broker.sendCommand(id, msg) : Promise.reject(new Error('broker not started'))),
    disconnect: (id: string) => broker?.disconnect(id),
  };
  const tracker = createCommandTracker();
  const commands = createCommandService({
    db,
    tracker,
    queues,
    broker: brokerRef,
    timeline,
    bus,
    metrics,
    log,
    defaultTtlS: config.COMMAND_DEFAULT_TTL_S,
    cluster,
    // Presence decides: during a takeover the old connection is still open here, yet the
    // terminal (and its commands) belong to the instance it reconnected to.
    heldHere: (id: string) => presence.isHeldHere(id),
  });
  const modules: ServerModule[] = [];
  const ingest = createIngest({
    live,
    writer: stateWriter,
    timeline,
    bus,
    onAck: commands.onAck,
    onCommandReady: commands.onCommandReady,
    onHealth: (id, sample) => modules.forEach((m) => m.onHealth?.(id, sample)),
    onEvent: (id, event) => modules.forEach((m) => m.onEvent?.(id, event)),
    onPresence: (change) => modules.forEach((m) => m.onPresence?.(change)),
    onState: (id, msg) => modules.forEach((m) => m.onState?.(id, msg)),
    hold: () => presence.gate,
  });
  const presence = createPresence({
    cluster,
    redisUrl: redis.url,
    prefix: `{${queuePrefix(config)}}`,
    live,
    log,
    onMoved: (id) => modules.forEach((m) => m.onMoved?.(id)),
    releaseCommands: (id) => commands.release(id),
    offlinePath: (change) => ingest.presenceChanged(change),
    releaseRows: stateWriter.releaseHeldBy,
  });

  const endpoints = { mqttUrl: '', httpUrl: '' };
  const devices = createDeviceService({
    db,
    audit,
    bus,
    live,
    credentials,
    timeline,
    hashSecret: hasher.hash,
    generateSecret,
    enrollToken: enroll.token,
    trust: () => ({
      firmwarePublishers: (config.FIRMWARE_PUBLISHER_KEYS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
      bindingKey: bindingKey.publicKeyBase64,
    }),
    mqttUrl: () => config.PUBLIC_MQTT_URL ?? endpoints.mqttUrl,
    disconnect: brokerRef.disconnect,
    invalidated: invalidations.devices,
  });

  const http = createHttpApp({ auth, log, bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES, trustedProxies: trustedProxies(config.TRUSTED_PROXIES) });
  const { app } = http;
  mountCoreRoutes(http, {
    version: VERSION,
    maxBodyBytes: config.HTTP_BODY_LIMIT_BYTES,
    metrics,
    log,
    db,
    queues,
    brokerStarted: () => Boolean(broker),
    auth,
    audit,
    hasher,
    devices,
    timeline,
    live,
    commands,
    bus,
  });

  const campaigns = createCampaignEngine({
    db,
    queues,
    bus,
    commands,
    devices,
    liveState: live,
    audit,
    log,
    metrics,
    retryBaseMs: config.CAMPAIGN_RETRY_BASE_MS,
    tickMs: config.CAMPAIGN_TICK_MS,
    cluster,
    databaseUrl: config.DATABASE_URL,
  });
  const terminalControl = createTerminalControl({ db, audit, commands, timeline, bus, credentials, broker: brokerRef, log, invalidated: invalidations.devices });
  const localBroker = { isConnected: (id: string) => broker?.isConnected(id) ?? false, disconnect: brokerRef.disconnect };
  wireInvalidation({ link: cluster.link, credentials, auth, blacklist: terminalControl.blacklist, broker: localBroker, log });
  const context: ModuleContext = {
    config,
    dataDir,
    sharedDir: config.SHARED_DIR ? resolve(config.SHARED_DIR) : dataDir,
    log,
    metrics,
    db,
    queues,
    cluster,
    bus,
    live,
    timeline,
    credentials,
    devices,
    commands,
    campaigns,
    audit,
    auth,
    hasher,
    bindingKey,
    broker: localBroker,
    terminalControl,
    httpUrl: () => endpoints.httpUrl,
    mqttUrl: () => config.PUBLIC_MQTT_URL ?? endpoints.mqttUrl,
  };
  for (const factory of moduleFactories) modules.push(factory(context));
  for (const m of modules) {
    if (!m.routes) continue;
    const routes = createRouter();
    m.routes(routes);
    http.mount(routes, m.routeExemptions);
  }

  return {
    config,
    log,
    metrics,
    database,
    db,
    hasher,
    redis,
    queues,
    cluster,
    relay,
    presence,
    bus,
    live,
    timeline,
    credentials,
    stateWriter,
    enroll,
    bindingKey,
    auth,
    audit,
    tracker,
    commands,
    terminalControl,
    ingest,
    devices,
    app,
    endpoints,
    modules,
    setBroker: (b: MqttBroker) => void (broker = b),
    broker: () => broker,
  };
}

export function createServer(config: Config, opts: { log?: Logger } = {}): PosfleetServer {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  let parts: Parts | undefined;
  let http: HttpServer | undefined;
  const timers: NodeJS.Timeout[] = [];
  let stopMonitor: (() => void) | undefined;
  let stopping: Promise<void> | undefined;

  async function startAll(): Promise<StartedServer> {
    const p = (parts = await assemble(config, log));
    await p.cluster.start();
    p.relay.start();
    await p.credentials.load();
    await restoreLiveState(p.db, p.live);
    await p.presence.start();
    await p.commands.start();
    await p.terminalControl.start();
    for (const m of p.modules) await m.start?.();

    const broker = await createMqttBroker({
      ...(await brokerJoin({ cluster: p.cluster, redisUrl: p.redis.url, keyPrefix: queuePrefix(config), log })),
      credentials: p.credentials,
      sink: p.ingest,
      metrics: p.metrics,
      log,
      rateLimit: { perSecond: config.DEVICE_MAX_MSGS_PER_S, burst: config.DEVICE_BURST },
      floodDisconnectAfter: config.DEVICE_FLOOD_DISCONNECT_AFTER,
      admission: { maxPending: config.MQTT_MAX_PENDING_CONNECTS, perSecond: config.MQTT_MAX_CONNECTS_PER_S, burst: config.MQTT_MAX_CONNECTS_PER_S },
    });
    p.setBroker(broker);
    const tls = tlsFiles(config);
    const { mqttPort, mqttsPort, wsPort, mqttUrl } = await listenBroker(broker, config, tls);
    p.endpoints.mqttUrl = mqttUrl;
    const httpPort = await listenHttp(p.app.fetch, config, tls, (server) => (http = server));

    // Only once everything listens: a start that fails earlier must not consume the one-time token.
    const bootstrap = await p.auth.bootstrapAdmin(config.ADMIN_TOKEN, {
      inTx: (tx, admin) => p.audit.append({ actor: null, action: 'user.bootstrap', target: admin.id }, tx),
    });
    p.endpoints.httpUrl = config.PUBLIC_HTTP_URL ?? `${tls ? 'https' : 'http'}://${publicHost(config)}:${httpPort}`;
    const flush = () =>
      Promise.all([p.stateWriter.tick(), p.timeline.tick()]).catch((err: unknown) => log.error({ err }, 'flush failed'));
    timers.push(setInterval(() => void flush(), config.FLUSH_INTERVAL_MS));
    const timeoutMs = config.HEARTBEAT_TIMEOUT_S * 1000;
    timers.push(
      setInterval(
        () => {
          for (const change of p.live.expire(Date.now(), timeoutMs)) p.ingest.presenceChanged(change);
        },
        Math.min(5000, Math.max(250, timeoutMs / 4)),
      ),
    );
    timers.push(setInterval(() => void p.queues.sampleDepths().catch(() => undefined), 5000));
    timers.push(setInterval(() => void purgeIdempotencyKeys(p.db, new Date(Date.now() - 24 * 3600_000)).catch(() => undefined), 3600_000));
    stopMonitor = startEventLoopMonitor(p.metrics);

    return {
      httpPort,
      mqttPort,
      mqttsPort,
      wsPort,
      httpUrl: p.endpoints.httpUrl,
      mqttUrl: config.PUBLIC_MQTT_URL ?? p.endpoints.mqttUrl,
      adminToken: bootstrap.created && !config.ADMIN_TOKEN ? bootstrap.token : undefined,
      enrollToken: p.enroll.token,
      enrollTokenCreated: p.enroll.created,
      redis: p.redis,
      databaseKind: p.database.kind,
      ...(p.cluster.clustered ? { instanceId: p.cluster.instanceId } : {}),
    };
  }

  return {
    get parts() {
      if (!parts) throw new Error('server not started');
      return parts;
    },
    async start() {
      try {
        return await startAll();
      } catch (err) {
        // Leave nothing half-started behind: listeners, workers, the database thread.
        await stop().catch(() => undefined);
        throw err;
      }
    },
    stop,
  };

  function stop(): Promise<void> {
    stopping ??= (async () => {
      const p = parts;
      if (!p) return;
      for (const t of timers) clearInterval(t);
      stopMonitor?.();
      // Stop taking work, let in-flight jobs finish, then close the broker and flush.
      if (http) {
        const server = http;
        const closed = new Promise<void>((ok) => server.close(() => ok()));
        server.closeIdleConnections();
        // Live streams never end by themselves: give requests in flight a moment, then cut.
        const cut = setTimeout(() => server.closeAllConnections(), 1000);
        await closed;
        clearTimeout(cut);
      }
      // No new device input from here on; in-flight deliveries find devices gone and re-queue.
      await p.broker()?.close();
      // Each close decided (offline, or moved to a peer) before modules stop and state is flushed.
      await p.presence.stop();
      // Domain modules flush what they buffered (and may still queue jobs) before queues close.
      for (const m of [...p.modules].reverse()) await m.stop?.().catch((err: unknown) => log.error({ err, module: m.name }, 'module stop failed'));
      p.terminalControl.stop();
      await p.queues.close();
      await p.commands.stop();
      await p.stateWriter.flush();
      await p.timeline.flush();
      p.relay.stop();
      await p.cluster.stop();
      await p.database.close();
      await p.redis.stop();
    })();
    return stopping;
  }
}
