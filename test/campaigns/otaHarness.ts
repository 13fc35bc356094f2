// A real server (MQTT, Redis, database) with signed firmware, and a simulated fleet of real
// agents with OTA faults, for rollout tests.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { FaultFractions } from '../../scripts/simulate/faults.ts';
import type { recordView } from '../../server/campaigns/campaignStore.ts';
import type { CampaignSummary } from '../../server/campaigns/campaignSummary.ts';
import { signedImage } from '../firmware/signedImage.ts';
import type { DatabaseKind } from '../helpers/databases.ts';
import { eventually, type EventuallyOptions } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/testServer.ts';

export const publisher = generatePublisherKey();

export async function startOtaServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return startTestServer({
    ...opts,
    env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64, CAMPAIGN_RETRY_BASE_MS: '300', CAMPAIGN_TICK_MS: '200', ...opts.env },
  });
}

/** The create body of a one-phase rollout of `firmwareId` to `deviceIds`: 90 % must succeed, more than 5 % errors stop it. */
export const onePhaseRollout = (name: string, firmwareId: string, deviceIds: string[]) => ({
  name,
  firmwareId,
  target: { deviceIds },
  phases: [{ name: 'all', percent: 100 }],
  successThreshold: 90,
  errorThreshold: 5,
});

/** Registers, signs and uploads an image; returns its id. */
export async function publishFirmware(t: TestServer, version: string, size = 64 * 1024, models = ['PAX-A920']): Promise<string> {
  const { image, manifest, signature } = signedImage(publisher, size, version, models);
  const created = await t.api<{ id: string }>('POST', '/v1/firmware', { manifest, signature });
  if (created.status !== 201) throw new Error(`firmware create: ${created.status} ${JSON.stringify(created.body)}`);
  const up = await t.api('PUT', `/v1/firmware/${created.body.id}/content`, undefined, {
    raw: image,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (up.status !== 200) throw new Error(`firmware upload: ${up.status} ${JSON.stringify(up.body)}`);
  return created.body.id;
}

export async function startOtaFleet(
  t: TestServer,
  devices: number,
  faults: FaultFractions = {},
  prefix = `OTA${randomBytes(3).toString('hex')}`,
): Promise<FleetHandle> {
  const { fleet } = await startTestFleet(t, {
    devices,
    prefix,
    healthIntervalS: 30,
    faults,
    faultTiming: { 'ota-offline': [0.5, 3] },
    backoff: { initialMs: 50, maxMs: 500, factor: 2 },
    concurrency: 25,
    fwVersion: '1.0.0',
    awaitConnected: false,
  });
  return fleet;
}

/** A server with the fleet's current image (1.0.0) and the one rolled out (2.0.0), and a fleet on 1.0.0. */
export interface OtaRig {
  readonly t: TestServer;
  readonly fleet: FleetHandle;
  /** The 2.0.0 image's id. */
  readonly fw2: string;
}

export interface OtaRigOptions {
  faults?: FaultFractions;
  database?: DatabaseKind;
  /** Publish 1.0.0 too (what a rollback reinstalls); default true. */
  currentImage?: boolean;
  hookTimeoutMs?: number;
}

/**
 * Starts an OtaRig before the suite's tests and stops it after them; the rig's parts may be read
 * inside tests and later hooks only.
 */
export function useOtaRig(devices: number, opts: OtaRigOptions = {}): OtaRig {
  let started: OtaRig | undefined;
  let server: TestServer | undefined;
  let fleetHandle: FleetHandle | undefined;
  beforeAll(async () => {
    server = await startOtaServer({ database: opts.database });
    if (opts.currentImage ?? true) await publishFirmware(server, '1.0.0');
    const fw2 = await publishFirmware(server, '2.0.0');
    fleetHandle = await startOtaFleet(server, devices, opts.faults);
    started = { t: server, fleet: fleetHandle, fw2 };
  }, opts.hookTimeoutMs);
  afterAll(async () => {
    await fleetHandle?.stop();
    await server?.stop();
  });
  const part = <K extends keyof OtaRig>(key: K): OtaRig[K] => {
    if (!started) throw new Error('the OTA rig runs only inside tests and hooks after it started');
    return started[key];
  };
  return {
    get t() {
      return part('t');
    },
    get fleet() {
      return part('fleet');
    },
    get fw2() {
      return part('fw2');
    },
  };
}

type PhaseView = CampaignSummary['phases'][number];

/** `GET /v1/rollouts/{id}` as these tests read it (the dates, JSON strings there, are not read). */
export type RolloutView = Pick<CampaignSummary, 'id' | 'state' | 'pausedReason' | 'rollingBack' | 'counts' | 'reverting'> & {
  phases: Pick<PhaseView, 'index' | 'started' | 'total' | 'succeeded' | 'errors' | 'devices' | 'counts'>[];
  /** The row keeps it as a record; these are the tally fields the engine's trip writes into it. */
  tripped: { phase: number; total: number; errors: number; succeeded: number } | null;
};

export async function rollout(t: TestServer, id: string): Promise<RolloutView> {
  const r = await t.api<RolloutView>('GET', `/v1/rollouts/${id}`);
  if (r.status !== 200) throw new Error(`get rollout: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Polls a rollout until `done` holds for it (by default: it is no longer running); returns that view. */
export function rolloutUntil(
  t: TestServer,
  id: string,
  done: (r: RolloutView) => boolean = (r) => r.state !== 'running',
  wait: EventuallyOptions = {},
): Promise<RolloutView> {
  return eventually(
    async () => {
      const r = await rollout(t, id);
      return done(r) ? r : undefined;
    },
    { timeoutMs: 90_000, stepMs: 200, what: 'the rollout to end', ...wait },
  );
}

/** One member of `GET /v1/rollouts/{id}/devices`. */
export type RolloutDevice = ReturnType<typeof recordView> & { serial: string | null };

export async function devicesOf(t: TestServer, id: string): Promise<RolloutDevice[]> {
  const out: RolloutDevice[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const r = await t.api<{ items: RolloutDevice[]; nextCursor: string | null }>('GET', `/v1/rollouts/${id}/devices?limit=500${q}`);
    out.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}
