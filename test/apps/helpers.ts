// Payment apps through the real server: packages signed by a test publisher (the firmware
// signer, scripts/sign-app.ts), a fleet of real agents of two models on two firmware versions,
// app deployments run to their end, and the answers read back with the server's own schemas.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { signAppManifest } from '../../scripts/sign-app.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { AppManifest } from '../../schemas/apps.ts';
import { apps } from '../../schemas/tables/apps.ts';
import { appSchema, inventoryView, packageSummary } from '../../server/apps/appRoutes.ts';
import { appParams } from '../../server/apps/appsKind.ts';
import { campaignView, failuresView, memberView } from '../../server/campaigns/campaignRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import type { TestServer } from '../helpers/testServer.ts';

export const publisher = generatePublisherKey();
/** A key the server and the terminals do not trust. */
export const stranger = generatePublisherKey();

/** The settings of a server that trusts `publisher` and runs campaigns briskly. */
export const appServerEnv = { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64, CAMPAIGN_RETRY_BASE_MS: '300', CAMPAIGN_TICK_MS: '200' };

export const MODEL = 'PAX-A920';
export const MIN_FIRMWARE = '1.2.0';

export interface SignedPackage {
  content: Buffer;
  manifest: AppManifest;
  signature: string;
}

export function signedPackage(packageName: string, version: string, size = 4096, signer = publisher): SignedPackage {
  const content = randomBytes(size);
  const manifest: AppManifest = {
    packageName,
    version,
    models: [MODEL],
    minFirmware: MIN_FIRMWARE,
    size,
    sha256: createHash('sha256').update(content).digest('hex'),
  };
  return { content, manifest, signature: signAppManifest(manifest, signer.privateKeyPem) };
}

/** Registers a package by its manifest and uploads its content; returns the ready package. */
export async function publishApp(t: TestServer, pkg: SignedPackage) {
  const created = await t.api('POST', '/v1/apps', { manifest: pkg.manifest, signature: pkg.signature });
  expect(created.status, created.text).toBe(201);
  const registered = appSchema.parse(created.body);
  expect(registered.state).toBe('awaiting_content');
  const up = await t.api('PUT', `/v1/apps/${registered.id}/content`, undefined, {
    raw: new Uint8Array(pkg.content),
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(up.status, up.text).toBe(200);
  return appSchema.parse(up.body);
}

/** Overwrites a stored package image with other bytes of its size, as a corrupted store or disk would. */
export function corruptStoredContent(t: TestServer, stored: { sha256: string; size: number }): void {
  const dir = join(t.config.SHARED_DIR ?? t.dataDir, 'apps', stored.sha256.slice(0, 2));
  writeFileSync(join(dir, stored.sha256), randomBytes(stored.size));
}

/**
 * Replaces a package's stored signature by one of an untrusted key: the server refuses such a
 * manifest at registration, so a signature that no longer holds (a tampered database or a man in
 * the middle) is set up behind its back.
 */
export async function forgeStoredSignature(t: TestServer, appId: string, manifest: AppManifest): Promise<void> {
  await t.server.parts.db
    .update(apps)
    .set({ signature: signAppManifest(manifest, stranger.privateKeyPem) })
    .where(eq(apps.id, appId));
}

/** The terminals: `main` can take the packages; one is another model, one runs firmware below MIN_FIRMWARE. */
export interface AppFleet {
  main: string[];
  otherModel: string;
  oldFirmware: string;
  all: string[];
  /** Agent `deviceId`'s state dir. */
  stateDirOf(deviceId: string): string;
  stop(): Promise<void>;
}

export async function startAppFleet(t: TestServer, mainCount: number): Promise<AppFleet> {
  const prefix = `APP${randomBytes(3).toString('hex')}`;
  const start = (suffix: string, devices: number, model: string, fwVersion: string) =>
    startTestFleet(t, { devices, prefix: `${prefix}${suffix}`, model, fwVersion, healthIntervalS: 30, concurrency: 10 });
  const fleets = await Promise.all([
    start('M', mainCount, MODEL, '1.2.0'),
    start('X', 1, 'VX-990', '1.3.0'),
    start('F', 1, MODEL, '1.1.0'),
  ]);
  const ids = (f: { fleet: FleetHandle }) => f.fleet.agents.map((a) => a.deviceId!);
  const [main, otherModel, oldFirmware] = [ids(fleets[0]), ids(fleets[1])[0]!, ids(fleets[2])[0]!];
  const dirs = new Map(fleets.flatMap((f) => f.fleet.agents.map((a) => [a.deviceId!, join(f.stateDir, a.serial)] as const)));
  return {
    main,
    otherModel,
    oldFirmware,
    all: [...main, otherModel, oldFirmware],
    stateDirOf: (id) => dirs.get(id)!,
    async stop() {
      await Promise.all(fleets.map((f) => f.fleet.stop()));
      for (const f of fleets) rmSync(f.stateDir, { recursive: true, force: true });
    },
  };
}

const deploymentView = campaignView('app-deployment', appParams.shape);
const membersPage = page(memberView);

/**
 * Creates an app deployment to `deviceIds` in one phase, starts it and waits for its end;
 * returns it and its members by device id. Failures are final (no retries) and do not stop it.
 */
export async function deploy(
  t: TestServer,
  params: { action: 'install' | 'update' | 'uninstall'; appId?: string; packageName?: string },
  deviceIds: string[],
) {
  const created = await t.api('POST', '/v1/app-deployments', {
    name: `${params.action} ${params.appId ?? params.packageName}`,
    ...params,
    target: { deviceIds },
    phases: [{ name: 'all', percent: 100 }],
    successThreshold: 0,
    errorThreshold: 100,
    retries: 0,
  });
  expect(created.status, created.text).toBe(201);
  const { id } = deploymentView.parse(created.body);
  const started = await t.api('POST', `/v1/app-deployments/${id}/start`);
  expect(started.status, started.text).toBe(200);
  const deployment = await eventually(
    async () => {
      const d = deploymentView.parse((await t.api('GET', `/v1/app-deployments/${id}`)).body);
      return d.state !== 'draft' && d.state !== 'running' ? d : undefined;
    },
    { timeoutMs: 15_000, stepMs: 100, what: `app deployment ${id} to end` },
  );
  const members = membersPage.parse((await t.api('GET', `/v1/app-deployments/${id}/devices?limit=100`)).body).items;
  return { deployment, members: new Map(members.map((m) => [m.deviceId, m])) };
}

export async function failuresOf(t: TestServer, deploymentId: string) {
  const r = await t.api('GET', `/v1/app-deployments/${deploymentId}/failures`);
  expect(r.status, r.text).toBe(200);
  return failuresView.parse(r.body);
}

export async function inventoryOf(t: TestServer, deviceId: string) {
  const r = await t.api('GET', `/v1/devices/${deviceId}/apps`);
  expect(r.status, r.text).toBe(200);
  return inventoryView.parse(r.body).apps;
}

/** Waits until every one of `deviceIds` reports exactly `expected` (the server stores it from the state topic). */
export async function inventoriesBecome(
  t: TestServer,
  deviceIds: string[],
  expected: { packageName: string; version: string }[],
): Promise<void> {
  await eventually(
    async () => {
      for (const id of deviceIds) expect(await inventoryOf(t, id)).toEqual(expected);
      return true;
    },
    { timeoutMs: 10_000, stepMs: 100, what: `the inventories of ${deviceIds.length} terminals` },
  );
}

/** GET /v1/apps: package name → its summary. */
export async function packages(t: TestServer) {
  const r = await t.api('GET', '/v1/apps?limit=100');
  expect(r.status, r.text).toBe(200);
  return new Map(
    page(packageSummary)
      .parse(r.body)
      .items.map((p) => [p.packageName, p]),
  );
}
