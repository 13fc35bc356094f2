// The terminal agent: wires the MQTT link, the command dispatcher, health reporting and event
// buffering around one Hardware and one StateStore. A factory with no module state, so the CLI
// runs one and the simulated fleet runs thousands in a process.
import type { Logger } from 'pino';
import {
  deviceEvent,
  stateMessage,
  topicFor,
  type AckMessage,
  type CommandType,
  type DeviceEvent,
  type DevicePublishKind,
  type HealthSample,
  type Severity,
} from '../schemas/wire.ts';
import { defaultBackoff, type BackoffOptions } from './backoff.ts';
import { createActivity } from './activity.ts';
import { createDispatcher, type HandlerRegistry } from './dispatcher.ts';
import type { Hardware } from './hardware.ts';
import { builtinHandlers, type HandlerEnv } from './handlers/index.ts';
import { createLink } from './link.ts';
import { createAgentLogger } from './log.ts';
import { createOutbox } from './outbox.ts';
import { createPaymentApp, type PaymentApp } from './paymentApp.ts';
import type { AgentConfig, Enrollment } from './schemas.ts';
import { createSeenLog } from './seen.ts';
import type { StateStore } from './stateStore.ts';
import { buildLogBundle } from './logBundle.ts';
import { createTelemetry } from './telemetry.ts';
import { brokerCandidates, trustReportOf } from './trust.ts';
import { reportedParametersOf } from './parameters/terminalParameters.ts';
import { loadApps } from './apps/appInventory.ts';
import type { AppInventory } from '../schemas/apps.ts';

export interface AgentObserver {
  connected?(): void;
  disconnected?(): void;
  /** CONNACK refused: 4 = bad user name or password, 5 = not authorized. */
  refused?(code: number, message: string): void;
  command?(type: CommandType | 'invalid'): void;
  ack?(ack: AckMessage, type: string): void;
}

export interface AgentDeps {
  store: StateStore;
  hardware: Hardware;
  enrollment: Enrollment;
  /** Tried before the broker URLs the server handed out (enrollment, trust.set). */
  mqttUrl?: string;
  ca?: string | Buffer;
  /** Factory firmware version, used only when the state dir has no slots yet. */
  fwVersion?: string;
  /** Factory payment apps, reported until the state dir has an inventory of its own (agent/apps/). */
  apps?: AppInventory;
  /** Default reporting interval; a `config.set` healthIntervalS persisted on the device wins. */
  healthIntervalS?: number;
  backoff?: BackoffOptions;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  random?: () => number;
  now?: () => number;
  log?: Logger;
  /** Events and acks held while offline. */
  outboxLimit?: number;
  /** Delay before each ack (fault injection: a slow terminal). */
  ackDelayMs?: () => number;
  /** Extra or replacement command handlers (ota.install, keys.*, binding.set…). */
  handlers?: HandlerRegistry;
  observer?: AgentObserver;
}

export interface AgentStats {
  connects: number;
  sent: Partial<Record<DevicePublishKind, number>>;
  garbageSent: number;
  healthSkippedOffline: number;
  eventsDropped: number;
  commands: Partial<Record<CommandType | 'invalid', number>>;
  /** Final acks by command type, then state. */
  acks: Record<string, Partial<Record<AckMessage['state'], number>>>;
}

export interface Agent {
  readonly deviceId: string;
  start(): Promise<void>;
  /** Publishes `online:false`, waits for in-flight messages, disconnects, saves what is unsent. */
  stop(): Promise<void>;
  isConnected(): boolean;
  waitConnected(timeoutMs?: number): Promise<void>;
  raiseEvent(type: DeviceEvent['type'], data?: DeviceEvent['data'], severity?: Severity): void;
  /** Takes a health sample now (and publishes it if online). */
  sampleHealth(): HealthSample;
  reboot(): Promise<void>;
  /** Fault injection: lose the network without a DISCONNECT (the broker fires the will). */
  dropLink(): void;
  /** Fault injection: publish arbitrary bytes to one of the device's own topics. */
  publishRaw(kind: DevicePublishKind, payload: string | Buffer): void;
  stats(): AgentStats;
  /** The payment application: takes payments within the binding, lock and limits. */
  readonly payments: PaymentApp;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `p`, but no longer than `ms`, without leaving a timer behind to hold the process. */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}
const SHUTDOWN_ACK_WAIT_MS = 5000;

export function createAgent(deps: AgentDeps): Agent {
  const { store, hardware, enrollment } = deps;
  const deviceId = enrollment.deviceId;
  // The pinned trust as trust.set leaves it: the next connection attempt and `state` use it.
  let pinned: Enrollment = enrollment;
  const now = deps.now ?? Date.now;
  const log = (deps.log ?? createAgentLogger()).child({ deviceId });
  const activity = createActivity(now);
  const outbox = createOutbox(deps.outboxLimit ?? 1000);
  for (const item of store.takeOutbox()) outbox.push(item);
  // Read on use: an install handler that switches slots and reboots is then announced correctly.
  const firmware = () => store.loadFirmware(deps.fwVersion ?? '1.0.0');
  let config: AgentConfig = store.loadConfig();

  const stats: AgentStats = { connects: 0, sent: {}, garbageSent: 0, healthSkippedOffline: 0, eventsDropped: 0, commands: {}, acks: {} };
  let eventSeq = 0;
  let ackChain: Promise<void> = Promise.resolve();
  let running = false;
  // True once the session is set up (subscribed, `online` sent, outbox flushed): until then
  // reliable messages queue, so they cannot overtake what was held while offline.
  let ready = false;
  let connectWaiters: Array<(err?: Error) => void> = [];

  const seen = createSeenLog({ initial: store.loadSeen(), persist: (l) => store.saveSeen(l) });

  const fwInfo = () => {
    const f = firmware();
    return { fwVersion: f[f.active].version, slot: f.active };
  };
  const stateNow = (online: boolean) =>
    JSON.stringify(stateMessage.parse({ online, ...fwInfo(), ts: now(), trust: trustReportOf(pinned), parameters: reportedParametersOf(config), apps: loadApps(store, deps.apps) ?? undefined }));

  const link = createLink({
    urls: () => brokerCandidates(pinned, deps.mqttUrl),
    clientId: deviceId,
    username: enrollment.mqtt.username,
    password: enrollment.mqtt.password,
    will: { topic: topicFor(deviceId, 'state'), payload: JSON.stringify({ online: false }) },
    ...(deps.ca ? { ca: deps.ca } : {}),
    keepaliveS: deps.keepaliveS ?? 60,
    ...(deps.connectTimeoutMs ? { connectTimeoutMs: deps.connectTimeoutMs } : {}),
    backoff: deps.backoff ?? defaultBackoff,
    random: deps.random ?? Math.random,
    log,
    onUp: () => void onUp(),
    onDown() {
      ready = false;
      activity.note('disconnected');
      log.info('disconnected');
      deps.observer?.disconnected?.();
    },
    onMessage(topic, payload) {
      if (topic === topicFor(deviceId, 'cmd')) void dispatcher.handle(payload);
    },
    onRefused(code, message) {
      activity.note(`connection refused (${code})`);
      deps.observer?.refused?.(code, message);
    },
  });

  function publishNow(kind: DevicePublishKind, payload: string | Buffer, qos: 0 | 1, retain = false): Promise<void> {
    stats.sent[kind] = (stats.sent[kind] ?? 0) + 1;
    return link.publish(topicFor(deviceId, kind), payload, { qos, retain }).catch((err: Error) => {
      log.debug({ err: err.message, kind }, 'publish not completed');
    });
  }

  /** QoS1 messages that must arrive: straight out when online, else into the outbox. */
  function sendReliable(kind: 'event' | 'ack', payload: string): void {
    if (ready && link.connected) void publishNow(kind, payload, 1);
    else outbox.push({ kind, payload });
  }

  async function onUp(): Promise<void> {
    stats.connects++;
    try {
      // Subscribe before announcing `online`: the server re-sends pending commands on that signal.
      const granted = await link.subscribe(topicFor(deviceId, 'cmd'));
      if (granted === 128) log.error('broker refused the command subscription');
      // stop() may have run meanwhile and said `offline`; an `online` now would contradict it.
      if (!running) return;
      await publishNow('state', stateNow(true), 1, true);
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'connect handshake interrupted');
      return;
    }
    const dropped = outbox.takeDropped();
    for (const item of outbox.drain()) void publishNow(item.kind, item.payload, 1);
    ready = true;
    const lost = (dropped.event ?? 0) + (dropped.ack ?? 0);
    if (lost > 0) {
      stats.eventsDropped += lost;
      raiseEvent('log', { message: 'messages dropped while offline', dropped }, 'warning');
    }
    activity.note('connected');
    log.info({ connects: stats.connects }, 'connected');
    deps.observer?.connected?.();
    for (const w of connectWaiters) w();
    connectWaiters = [];
  }

  function raiseEvent(type: DeviceEvent['type'], data: DeviceEvent['data'] = {}, severity?: Severity): void {
    const ev = deviceEvent.parse({ ts: now(), seq: eventSeq++, type, data, ...(severity ? { severity } : {}) });
    activity.note(`event ${type}${severity ? `/${severity}` : ''} ${JSON.stringify(data)}`);
    sendReliable('event', JSON.stringify(ev));
  }

  const payments = createPaymentApp({ store, deviceId, now, raiseEvent });

  const telemetry = createTelemetry({
    hardware,
    now,
    log,
    raiseEvent,
    publishHealth(reading) {
      // Today's transaction figures ride along (SPEC §3 `txn`) once the terminal is bound.
      const txn = payments.figures();
      const sample = txn ? { ...reading, txn } : reading;
      if (ready && link.connected) void publishNow('health', JSON.stringify(sample), 0);
      else stats.healthSkippedOffline++;
    },
  });
  const intervalS = () => config.healthIntervalS ?? deps.healthIntervalS ?? 60;

  function sendAck(ack: AckMessage): void {
    const type = seen.get(ack.cmdId)?.type ?? 'unknown';
    if (ack.state === 'succeeded' || ack.state === 'failed' || ack.state === 'rejected') {
      const byState = (stats.acks[type] ??= {});
      byState[ack.state] = (byState[ack.state] ?? 0) + 1;
    }
    activity.note(`ack ${ack.cmdId} ${type} ${ack.state}${ack.stage ? ` ${ack.stage}` : ''}${ack.error ? ` ${ack.error.code}` : ''}`);
    deps.observer?.ack?.(ack, type);
    const payload = JSON.stringify(ack);
    const delay = deps.ackDelayMs?.() ?? 0;
    // Chained so acks stay in order even when each one is delayed.
    ackChain = ackChain.then(async () => {
      if (delay > 0) await sleep(delay);
      sendReliable('ack', payload);
    });
  }


  async function reboot(): Promise<void> {
    await atMost(ackChain, SHUTDOWN_ACK_WAIT_MS);
    telemetry.stop();
    // Say so ourselves: without it the server waits for a keepalive timeout to see us gone.
    if (link.connected) await publishNow('state', stateNow(false), 1, true);
    await link.close();
    log.info('rebooting');
    await hardware.reboot();
    telemetry.newBoot();
    eventSeq = 0;
    raiseEvent('boot', { reason: 'command', ...fwInfo() });
    if (!running) return;
    telemetry.start(intervalS());
    link.open();
  }

  const env: HandlerEnv = {
    hardware,
    store,
    log,
    now,
    isConnected: () => link.connected,
    reboot,
    applyConfig(next) {
      const before = intervalS();
      const parametersBefore = reportedParametersOf(config)?.digest;
      config = next;
      if (intervalS() !== before && telemetry.isRunning()) telemetry.start(intervalS());
      // A new parameter set is reported at once (docs/parameters.md), not at the next reconnect.
      if (reportedParametersOf(config)?.digest !== parametersBefore && ready && link.connected) void publishNow('state', stateNow(true), 1, true);
    },
    logBundle: () =>
      buildLogBundle({
        deviceId,
        serial: enrollment.serial,
        firmware: firmware(),
        config,
        locked: store.loadLock().locked,
        uptimeS: telemetry.uptimeS(),
        lastHealth: telemetry.lastSample(),
        activity: activity.lines(),
      }),
    trustChanged(next) {
      pinned = next;
      // Tell the server at once that the lists now match, not at the next reconnect.
      if (ready && link.connected) void publishNow('state', stateNow(true), 1, true);
    },
    ...(deps.ca ? { ca: deps.ca } : {}),
    ...(deps.apps ? { factoryApps: deps.apps } : {}),
    // An app installed or removed is reported at once (docs/apps.md), not at the next reconnect.
    stateChanged: () => void (ready && link.connected && publishNow('state', stateNow(true), 1, true)),
  };

  const dispatcher = createDispatcher({
    handlers: { ...builtinHandlers(env), ...deps.handlers },
    seen,
    sendAck,
    now,
    log,
    onCommand(type) {
      stats.commands[type] = (stats.commands[type] ?? 0) + 1;
      deps.observer?.command?.(type);
    },
  });

  let untamper: (() => void) | undefined;

  return {
    deviceId,
    async start() {
      if (running) return;
      running = true;
      telemetry.newBoot();
      untamper = hardware.onTamper?.(() => telemetry.tamper('switch'));
      raiseEvent('boot', { reason: 'start', ...fwInfo(), locked: store.loadLock().locked });
      dispatcher.recoverInterrupted();
      telemetry.start(intervalS());
      link.open();
    },
    async stop() {
      if (!running) return;
      running = false;
      telemetry.stop();
      untamper?.();
      await atMost(ackChain, SHUTDOWN_ACK_WAIT_MS);
      if (link.connected) await atMost(publishNow('state', stateNow(false), 1, true), 2000);
      await link.close();
      store.saveOutbox(outbox.drain());
      for (const w of connectWaiters) w(new Error('agent stopped'));
      connectWaiters = [];
    },
    isConnected: () => ready && link.connected,
    waitConnected(timeoutMs = 30_000) {
      if (ready && link.connected) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
        connectWaiters.push((err) => {
          clearTimeout(t);
          if (err) reject(err);
          else resolve();
        });
      });
    },
    raiseEvent,
    sampleHealth: telemetry.sample,
    reboot,
    dropLink: () => link.drop(),
    publishRaw(kind, payload) {
      if (!link.connected) return;
      stats.garbageSent++;
      void link.publish(topicFor(deviceId, kind), payload, { qos: 0 }).catch(() => undefined);
    },
    stats: () => structuredClone(stats),
    payments,
  };
}
