// App packages: a signed manifest first, then the content streamed to storage and hashed on the
// way, exactly as firmware (server/firmware/firmwareService.ts): the same signer check over the
// canonical manifest, the same content-addressed storage.
import type { Readable } from 'node:stream';
import { and, asc, count, eq, gt, inArray } from 'drizzle-orm';
import { appManifest, appManifestSigner, PACKAGE_NAME, type AppManifest } from '../../schemas/apps.ts';
import { apps, deviceApps, type AppRow } from '../../schemas/tables/apps.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { newId } from '../core/ids.ts';
import { fromBase64url, keyMatching, toBase64url } from '../http/cursorParts.ts';
import { scopedDevice, type OrgScope } from '../orgs/scope.ts';
import type { ArtifactStorage } from '../firmware/artifactStorage.ts';
import { registerPackage, storePackageContent, type PackageCatalogue } from '../firmware/signedPackages.ts';

export const appView = (a: AppRow) => ({
  id: a.id,
  packageName: a.packageName,
  version: a.version,
  models: a.models,
  minFirmware: a.minFirmware,
  size: a.size,
  sha256: a.sha256,
  state: a.state,
  manifest: a.manifest,
  signature: a.signature,
  publisherKey: a.publisherKey,
  createdBy: a.createdBy,
  createdAt: a.createdAt,
  readyAt: a.readyAt,
});

/** One version of a package in the list: registered (id) or only reported by terminals (id null). */
export interface AppVersionSummary {
  version: string;
  id: string | null;
  state: AppRow['state'] | null;
  models: string[] | null;
  minFirmware: string | null;
  installs: number;
}

export function createAppService(deps: { db: Db; storage: ArtifactStorage; publisherKeys: () => string[] }) {
  const { db } = deps;
  const ready = new Map<string, AppRow>();
  const byId = async (id: string): Promise<AppRow> => {
    const hit = ready.get(id);
    if (hit) return hit;
    const row = await firstOrNotFound(db.select().from(apps).where(eq(apps.id, id)).limit(1), `app ${id}`);
    if (row.state === 'ready') ready.set(id, row);
    return row;
  };

  const catalogue: PackageCatalogue<AppManifest, AppRow> = {
    label: (m) => `${m.packageName} ${m.version}`,
    noPublisherKeys: 'no publisher key is trusted: set FIRMWARE_PUBLISHER_KEYS (app packages are signed by the same publishers)',
    signerOf: appManifestSigner,
    existing: async (m) =>
      (
        await db
          .select()
          .from(apps)
          .where(and(eq(apps.packageName, m.packageName), eq(apps.version, m.version)))
          .limit(1)
      )[0],
    async insert(tx, m, signed) {
      const [r] = await tx
        .insert(apps)
        .values({
          id: newId('app'),
          packageName: m.packageName,
          version: m.version,
          models: m.models,
          minFirmware: m.minFirmware,
          size: m.size,
          sha256: m.sha256,
          manifest: m,
          ...signed,
        })
        .returning();
      return r!;
    },
    async markReady(tx, id) {
      const [done] = await tx.update(apps).set({ state: 'ready', readyAt: new Date() }).where(eq(apps.id, id)).returning();
      return done!;
    },
  };

  return {
    byId,

    /** A new package version (created), or the one registered before with the very same manifest. */
    create(
      input: { manifest: AppManifest; signature: string },
      createdBy: string,
      inTx: (tx: Tx, row: AppRow) => Promise<unknown>,
    ): Promise<{ row: AppRow; created: boolean }> {
      const manifest = appManifest.parse(input.manifest);
      return registerPackage(db, catalogue, { manifest, signature: input.signature, publisherKeys: deps.publisherKeys(), createdBy }, inTx);
    },

    /** Streams the package in (server/firmware/signedPackages.ts: verified on the way, nothing kept on a mismatch). */
    async upload(id: string, body: Readable, inTx: (tx: Tx, row: AppRow) => Promise<unknown>): Promise<AppRow> {
      return storePackageContent(deps, await byId(id), body, catalogue.markReady, inTx);
    },

    /**
     * Packages by name: those registered and those only reported by terminals (a factory app),
     * each with its versions and how many of the caller's terminals report each one.
     */
    async list(principal: OrgScope, limit: number, cursor?: string) {
      const after = cursor ? keyMatching(fromBase64url(cursor), PACKAGE_NAME) : undefined;
      const [registered, reported] = await Promise.all([
        db
          .selectDistinct({ name: apps.packageName })
          .from(apps)
          .where(after ? gt(apps.packageName, after) : undefined)
          .orderBy(asc(apps.packageName))
          .limit(limit + 1),
        db
          .selectDistinct({ name: deviceApps.packageName })
          .from(deviceApps)
          .where(and(after ? gt(deviceApps.packageName, after) : undefined, scopedDevice(principal, deviceApps.deviceId)))
          .orderBy(asc(deviceApps.packageName))
          .limit(limit + 1),
      ]);
      const names = [...new Set([...registered, ...reported].map((r) => r.name))].sort().slice(0, limit + 1);
      const pageNames = names.slice(0, limit);
      if (pageNames.length === 0) return { items: [], nextCursor: null };
      const [rows, counts] = await Promise.all([
        db.select().from(apps).where(inArray(apps.packageName, pageNames)),
        db
          .select({ name: deviceApps.packageName, version: deviceApps.version, n: count() })
          .from(deviceApps)
          .where(and(inArray(deviceApps.packageName, pageNames), scopedDevice(principal, deviceApps.deviceId)))
          .groupBy(deviceApps.packageName, deviceApps.version),
      ]);
      const items = pageNames.map((name) => {
        const installs = new Map(counts.filter((c) => c.name === name).map((c) => [c.version, Number(c.n)]));
        const versions: AppVersionSummary[] = rows
          .filter((r) => r.packageName === name)
          .map((r) => ({
            version: r.version,
            id: r.id,
            state: r.state,
            models: r.models,
            minFirmware: r.minFirmware,
            installs: installs.get(r.version) ?? 0,
          }));
        for (const [version, n] of installs)
          if (!versions.some((v) => v.version === version))
            versions.push({ version, id: null, state: null, models: null, minFirmware: null, installs: n });
        versions.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
        return { packageName: name, installs: [...installs.values()].reduce((s, n) => s + n, 0), versions };
      });
      return { items, nextCursor: names.length > limit ? toBase64url(pageNames.at(-1)!) : null };
    },
  };
}

export type AppService = ReturnType<typeof createAppService>;
