// A real server (MQTT, Redis, database) with signed firmware, and a simulated fleet of real
// agents with OTA faults, for rollout tests.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import { runFleet, type FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { FaultFractions } from '../../scripts/simulate/faults.ts';
import type { FirmwareManifest } from '../../schemas/ota.ts';
import { startTestServer, TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer, type TestServerOptions } from '../helpers/testServer.ts';

export const publisher = generatePublisherKey();

export async function startOtaServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return startTestServer({
    ...opts,
    env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64, CAMPAIGN_RETRY_BASE_MS: '300', CAMPAIGN_TICK_MS: '200', ...opts.env },
  });
}

/** Registers, signs and uploads an image; returns its id. */
export async function publishFirmware(t: TestServer, version: string, size = 64 * 1024, models = ['PAX-A920']): Promise<string> {
  const bytes = randomBytes(size);
  const manifest: FirmwareManifest = { name: 'pos-os', version, models, size, sha256: createHash('sha256').update(bytes).digest('hex') };
  const created = await t.api<{ id: string }>('POST', '/v1/firmware', {
    manifest,
    signature: signManifest(manifest, publisher.privateKeyPem),
  });
  if (created.status !== 201) throw new Error(`firmware create: ${created.status} ${JSON.stringify(created.body)}`);
  const up = await t.api('PUT', `/v1/firmware/${created.body.id}/content`, undefined, {
    raw: bytes,
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
  const fleet = await runFleet({
    server: t.url,
    devices,
    enrollToken: TEST_ENROLL_TOKEN,
    adminToken: TEST_ADMIN_TOKEN,
    prefix,
    healthIntervalS: 30,
    faults,
    faultTiming: { 'ota-offline': [0.5, 3] },
    stateDir: mkdtempSync(join(tmpdir(), 'posfleet-ota-')),
    backoff: { initialMs: 50, maxMs: 500, factor: 2 },
    concurrency: 25,
    fwVersion: '1.0.0',
    log: pino({ level: 'silent' }),
  });
  await fleet.ready;
  return fleet;
}

export interface RolloutView {
  id: string;
  state: string;
  pausedReason: string | null;
  tripped: { phase: number; total: number; errors: number; succeeded: number } | null;
  rollingBack: boolean;
  phases: {
    index: number;
    started: boolean;
    total: number;
    succeeded: number;
    errors: number;
    devices: number;
    counts: Record<string, number>;
  }[];
  counts: Record<string, number>;
  /** Members whose revert is not final yet. */
  reverting: number;
}

export async function rollout(t: TestServer, id: string): Promise<RolloutView> {
  const r = await t.api<RolloutView>('GET', `/v1/rollouts/${id}`);
  if (r.status !== 200) throw new Error(`get rollout: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface RolloutDevice {
  deviceId: string;
  state: string;
  reportedVersion: string | null;
  phase: number;
  error: { code: string } | null;
  attempt: number;
}

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
