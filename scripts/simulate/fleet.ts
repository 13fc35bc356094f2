// N simulated terminals in one process: the real agent (createAgent) on simulated hardware,
// enrolled and connected with bounded concurrency, with the fleet's share of injected faults.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createAgent, type Agent, type AgentStats } from '../../agent/agent.ts';
import type { AppInventory } from '../../schemas/apps.ts';
import type { BackoffOptions } from '../../agent/backoff.ts';
import { EnrollError, ensureEnrolled } from '../../agent/enroll.ts';
import { createAgentLogger } from '../../agent/log.ts';
import { startSimulatedPayments, type PaymentTraffic } from '../../agent/simulatedPayments.ts';
import { seededRandom, seedFrom } from '../../agent/random.ts';
import type { Enrollment } from '../../agent/schemas.ts';
import { createSimulatedHardware, type SimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore, type StateStore } from '../../agent/stateStore.ts';
import { assignFaults, type FaultFractions, type FleetFault } from './faults.ts';
import { createFaultScheduler, startFaultDrivers, type FaultTiming } from './faultDrivers.ts';
import { bindToMerchant, createMerchantSites, simTid } from './bind.ts';
import { importSerials, type ImportResult } from './register.ts';
import { addAgentStats, emptySummary, type FleetProgress, type FleetSummary } from './summary.ts';

/** The payment app every simulated terminal leaves the factory with, so the fleet has an inventory from the start. */
export const DEFAULT_FACTORY_APPS: AppInventory = [{ packageName: 'com.posfleet.pay', version: '1.0.0' }];

export interface FleetOptions {
  server: string;
  /** Devices run by this call. */
  devices: number;
  enrollToken: string;
  /** When given (and `register` is not false), the serials are pre-registered first. */
  adminToken?: string;
  register?: boolean;
  prefix?: string;
  model?: string;
  fwVersion?: string;
  /** Factory payment apps of every terminal (docs/apps.md); default com.posfleet.pay 1.0.0. */
  apps?: AppInventory;
  healthIntervalS?: number;
  faults?: FaultFractions;
  /** Root of the per-device state dirs (`<stateDir>/<serial>`), kept so a rerun reuses enrollments. */
  stateDir?: string;
  /** 1-based number of this call's first serial, and the whole fleet's size: a slice of a fleet
   * split over processes gets the same serials and faults as an unsplit run. */
  firstIndex?: number;
  fleetSize?: number;
  seed?: number;
  /** Devices enrolling or connecting at once. */
  concurrency?: number;
  mqttUrl?: string;
  ca?: string | Buffer;
  backoff?: BackoffOptions;
  /** Simulated hardware seconds per real second (drift speed). */
  timeScale?: number;
  /** When timed faults fire, in seconds [min, max] (shorter in tests). */
  faultTiming?: FaultTiming;
  log?: Logger;
  /** Simulated payment traffic on each terminal once it is bound (agent/simulatedPayments.ts). */
  payments?: PaymentTraffic;
  /** Bind every terminal to this (active) merchant, TID S0000001… (needs adminToken). */
  bindMerchantId?: string;
}

export type DeviceStatus = 'pending' | 'enrolling' | 'connecting' | 'connected' | 'offline' | 'failed' | 'stopped';

export interface SimDevice {
  index: number;
  serial: string;
  faults: FleetFault[];
  hardware: SimulatedHardware;
  agent: Agent | null;
  deviceId: string | null;
  status: DeviceStatus;
  failure?: string;
}

export interface FleetHandle {
  agents: SimDevice[];
  /** Settles when every device has been enrolled and started, or has failed. */
  ready: Promise<void>;
  registration: ImportResult | null;
  progress(): FleetProgress;
  summary(): FleetSummary;
  stop(): Promise<FleetSummary>;
}

export const serialOf = (prefix: string, index: number) => `${prefix}-${String(index).padStart(5, '0')}`;

const CONNECT_WAIT_MS = 30_000;
const TRANSIENT = /^(network|rate_limited|http_5\d\d|http_429|unavailable)$/;

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runFleet(o: FleetOptions): Promise<FleetHandle> {
  const prefix = o.prefix ?? 'SIM';
  const model = o.model ?? 'PAX-A920';
  const fwVersion = o.fwVersion ?? '1.0.0';
  const stateDir = o.stateDir ?? 'agent-state';
  const seed = o.seed ?? 1;
  const first = o.firstIndex ?? 1;
  const log = o.log ?? createAgentLogger(process.env.LOG_LEVEL ?? 'error');
  const faultPlan = assignFaults(o.fleetSize ?? first - 1 + o.devices, o.faults ?? {}, seed);

  const devices: SimDevice[] = Array.from({ length: o.devices }, (_, k) => {
    const index = first + k;
    const serial = serialOf(prefix, index);
    return {
      index,
      serial,
      faults: faultPlan[index - 1] ?? [],
      hardware: createSimulatedHardware({ seed: (seedFrom(serial) ^ seed) >>> 0, ...(o.timeScale ? { timeScale: o.timeScale } : {}) }),
      agent: null,
      deviceId: null,
      status: 'pending',
    };
  });

  const registration =
    o.adminToken && o.register !== false
      ? await importSerials({ server: o.server, adminToken: o.adminToken, model, serials: devices.map((d) => d.serial), ...(o.ca ? { ca: o.ca } : {}) })
      : null;

  const sites = o.adminToken ? createMerchantSites({ server: o.server, token: o.adminToken, ...(o.ca ? { ca: o.ca } : {}) }) : null;
  let stopping = false;
  const retired: AgentStats[] = [];
  const injected: Partial<Record<FleetFault, number>> = {};
  const scheduler = createFaultScheduler();
  const enrolled = new Set<string>();

  const noteFault = (f: FleetFault) => (injected[f] = (injected[f] ?? 0) + 1);
  const fail = (dev: SimDevice, reason: string) => {
    dev.status = 'failed';
    dev.failure = reason;
  };

  // Once per device (not per agent: a re-enrolled device keeps its faults and timers).
  const driven = new Set<string>();
  const traffic = new Map<string, { stop(): void }>();
  function drive(dev: SimDevice) {
    if (driven.has(dev.serial)) return;
    driven.add(dev.serial);
    startFaultDrivers(dev, { seed, ...(o.faultTiming ? { timing: o.faultTiming } : {}), scheduler, noteFault });
  }

  async function enrollWithRetry(serial: string, store: StateStore): Promise<{ enrollment: Enrollment; fresh: boolean }> {
    const slots = store.loadFirmware(fwVersion);
    for (let attempt = 0; ; attempt++) {
      try {
        return await ensureEnrolled(store, {
          server: o.server,
          serial,
          model,
          fwVersion: slots[slots.active].version,
          enrollToken: o.enrollToken,
          ...(o.ca ? { ca: o.ca } : {}),
        });
      } catch (err) {
        if (!(err instanceof EnrollError) || !TRANSIENT.test(err.code) || attempt >= 3 || stopping) throw err;
        await sleep(500 * 2 ** attempt * (0.5 + Math.random()));
      }
    }
  }

  async function bringUp(dev: SimDevice, allowReenroll: boolean): Promise<void> {
    if (stopping) return;
    dev.status = 'enrolling';
    const store = openStateStore(join(stateDir, dev.serial));
    let enrollment: Enrollment;
    let fresh: boolean;
    try {
      ({ enrollment, fresh } = await enrollWithRetry(dev.serial, store));
    } catch (err) {
      const code = err instanceof EnrollError ? err.code : 'error';
      log.warn({ serial: dev.serial, err: (err as Error).message }, 'enrollment failed');
      return fail(dev, `enroll: ${code}`);
    }
    if (stopping) return;
    // At its merchant before the binding (or again after a restart), so no fix counts far away.
    const merchantId = o.bindMerchantId ?? store.loadMerchant().binding?.claims.merchantId;
    if (merchantId && sites) await sites.placeAt(dev.hardware, merchantId);
    if (o.bindMerchantId && o.adminToken) {
      const outcome = await bindToMerchant({ server: o.server, adminToken: o.adminToken, deviceId: enrollment.deviceId, merchantId: o.bindMerchantId, tid: simTid(dev.index), ...(o.ca ? { ca: o.ca } : {}) }).catch(
        (err: unknown) => `error: ${(err as Error).message}`,
      );
      if (outcome !== 'bound' && outcome !== 'already_bound') log.warn({ serial: dev.serial, outcome }, 'binding to the merchant failed');
    }
    enrolled.add(dev.serial);
    dev.deviceId = enrollment.deviceId;
    dev.status = 'connecting';
    const random = seededRandom(seedFrom(`${dev.serial}/acks`) ^ seed);
    const agent = createAgent({
      store,
      hardware: dev.hardware,
      enrollment,
      ...(o.mqttUrl ? { mqttUrl: o.mqttUrl } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      fwVersion,
      apps: o.apps ?? DEFAULT_FACTORY_APPS,
      healthIntervalS: o.healthIntervalS ?? 10,
      ...(o.backoff ? { backoff: o.backoff } : {}),
      log,
      ...(dev.faults.includes('slow-acks') ? { ackDelayMs: () => 1000 + random() * 4000 } : {}),
      observer: {
        connected: () => dev.agent === agent && (dev.status = 'connected'),
        disconnected: () => dev.agent === agent && dev.status === 'connected' && (dev.status = 'offline'),
        refused: (code) => {
          if (dev.agent !== agent || (code !== 4 && code !== 5)) return;
          void onRefused(dev, agent, store, fresh, allowReenroll, code);
        },
        // Bound by an operator (API, dashboard): the terminal moves to its new merchant.
        ack: (ack, type) => {
          const boundTo = ack.result?.merchantId;
          if (type === 'binding.set' && ack.state === 'succeeded' && typeof boundTo === 'string') void sites?.placeAt(dev.hardware, boundTo);
        },
      },
    });
    dev.agent = agent;
    await agent.start();
    drive(dev);
    if (o.payments) {
      traffic.get(dev.serial)?.stop();
      traffic.set(dev.serial, startSimulatedPayments(agent.payments, o.payments, seededRandom(seedFrom(`${dev.serial}/payments`) ^ seed)));
    }
    await agent.waitConnected(CONNECT_WAIT_MS).catch(() => undefined);
  }

  // Stored credentials the broker refuses usually mean the server's data was reset since the last
  // run: enroll again once. Fresh credentials refused are a real failure.
  async function onRefused(dev: SimDevice, agent: Agent, store: StateStore, fresh: boolean, allowReenroll: boolean, code: number) {
    dev.agent = null;
    await agent.stop();
    retired.push(agent.stats());
    if (!fresh && allowReenroll && !stopping) {
      store.clearEnrollment();
      enrolled.delete(dev.serial);
      return bringUp(dev, false);
    }
    fail(dev, code === 4 ? 'connect: bad user name or password' : 'connect: not authorized');
  }

  const ready = forEachLimit(devices, o.concurrency ?? 50, (d) => bringUp(d, true));

  function progress(): FleetProgress {
    return {
      total: devices.length,
      enrolled: enrolled.size,
      connected: devices.filter((d) => d.status === 'connected').length,
      failed: devices.filter((d) => d.status === 'failed').length,
    };
  }

  function summary(): FleetSummary {
    const s = { ...emptySummary(), ...progress() };
    for (const st of retired) addAgentStats(s, st);
    for (const d of devices) {
      if (d.agent) addAgentStats(s, d.agent.stats());
      if (d.failure) s.failures[d.failure] = (s.failures[d.failure] ?? 0) + 1;
    }
    s.faultsInjected = { ...injected };
    if (registration) s.registration = { created: registration.created, skipped: registration.skipped.length, errors: registration.errors.length };
    return s;
  }

  return {
    agents: devices,
    ready,
    registration,
    progress,
    summary,
    async stop() {
      stopping = true;
      scheduler.clear();
      for (const t of traffic.values()) t.stop();
      const connectedAtStop = progress().connected;
      const stopAll = () =>
        forEachLimit(devices, 200, async (d) => {
          await d.agent?.stop().catch((err: unknown) => log.warn({ serial: d.serial, err }, 'agent stop failed'));
          if (d.status !== 'failed') d.status = 'stopped';
        });
      // Stopping first releases devices still waiting to connect, so startup settles at once.
      await stopAll();
      await ready.catch(() => undefined);
      await stopAll();
      return { ...summary(), connected: connectedAtStop };
    },
  };
}
