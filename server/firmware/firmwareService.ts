// Firmware artifacts: a signed manifest first, then the content streamed to storage and hashed
// on the way (SPEC §4). The server holds only publisher public keys, never a private one.
import type { Readable } from 'node:stream';
import { and, desc, eq, lt } from 'drizzle-orm';
import { firmwareManifest, manifestSigner, type FirmwareManifest } from '../../schemas/ota.ts';
import { firmware, type FirmwareRow } from '../../schemas/tables/firmware.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { newId } from '../core/ids.ts';
import { keyMatching, publicIdPattern } from '../http/cursorParts.ts';
import type { ArtifactStorage } from './artifactStorage.ts';
import { registerPackage, storePackageContent, type PackageCatalogue } from './signedPackages.ts';

export const newFirmwareId = () => newId('fw');
const FIRMWARE_ID = publicIdPattern('fw');

export const firmwareView = (f: FirmwareRow) => ({
  id: f.id,
  name: f.name,
  version: f.version,
  models: f.models,
  size: f.size,
  sha256: f.sha256,
  state: f.state,
  manifest: f.manifest,
  signature: f.signature,
  publisherKey: f.publisherKey,
  createdBy: f.createdBy,
  createdAt: f.createdAt,
  readyAt: f.readyAt,
});

export function createFirmwareService(deps: { db: Db; storage: ArtifactStorage; publisherKeys: () => string[] }) {
  const { db } = deps;

  // A ready artifact never changes: downloads at fleet scale read it from memory.
  const ready = new Map<string, FirmwareRow>();
  const byId = async (id: string): Promise<FirmwareRow> => {
    const hit = ready.get(id);
    if (hit) return hit;
    const row = await firstOrNotFound(db.select().from(firmware).where(eq(firmware.id, id)).limit(1), `firmware ${id}`);
    if (row.state === 'ready') ready.set(id, row);
    return row;
  };

  const catalogue: PackageCatalogue<FirmwareManifest, FirmwareRow> = {
    label: (m) => `${m.name} ${m.version}`,
    noPublisherKeys:
      'no firmware publisher key is trusted: set FIRMWARE_PUBLISHER_KEYS to the publisher public key(s) (scripts/sign-firmware.ts keygen prints one) and restart the server',
    signerOf: manifestSigner,
    existing: async (m) =>
      (
        await db
          .select()
          .from(firmware)
          .where(and(eq(firmware.name, m.name), eq(firmware.version, m.version)))
          .limit(1)
      )[0],
    async insert(tx, m, signed) {
      const [r] = await tx
        .insert(firmware)
        .values({
          id: newFirmwareId(),
          name: m.name,
          version: m.version,
          models: m.models,
          size: m.size,
          sha256: m.sha256,
          manifest: m,
          ...signed,
        })
        .returning();
      return r!;
    },
    async markReady(tx, id) {
      const [done] = await tx.update(firmware).set({ state: 'ready', readyAt: new Date() }).where(eq(firmware.id, id)).returning();
      return done!;
    },
  };

  return {
    byId,

    /** 201 with a new artifact, or the existing one for the very same manifest (idempotent). */
    /** `inTx` runs in the insert's transaction (the audit entry: both commit or neither). */
    create(
      input: { manifest: FirmwareManifest; signature: string },
      createdBy: string,
      inTx: (tx: Tx, row: FirmwareRow) => Promise<unknown>,
    ): Promise<{ row: FirmwareRow; created: boolean }> {
      const manifest = firmwareManifest.parse(input.manifest);
      return registerPackage(db, catalogue, { manifest, signature: input.signature, publisherKeys: deps.publisherKeys(), createdBy }, inTx);
    },

    /** Streams the image in (signedPackages.ts: verified on the way, nothing kept on a mismatch). */
    async upload(id: string, body: Readable, inTx: (tx: Tx, row: FirmwareRow) => Promise<unknown>): Promise<FirmwareRow> {
      return storePackageContent(deps, await byId(id), body, catalogue.markReady, inTx);
    },

    async list(limit: number, cursor?: string) {
      const rows = await db
        .select()
        .from(firmware)
        .where(cursor ? lt(firmware.id, keyMatching(cursor, FIRMWARE_ID)) : undefined)
        .orderBy(desc(firmware.id))
        .limit(limit + 1);
      return { items: rows.slice(0, limit).map(firmwareView), nextCursor: rows.length > limit ? rows[limit - 1]!.id : null };
    },

    /** A ready artifact of the same name at `version` that runs on `model` (for rollbacks). */
    async findVersion(name: string, version: string, model: string): Promise<FirmwareRow | undefined> {
      const rows = await db
        .select()
        .from(firmware)
        .where(and(eq(firmware.name, name), eq(firmware.version, version), eq(firmware.state, 'ready')));
      return rows.find((r) => r.models.includes(model));
    },
  };
}

export type FirmwareService = ReturnType<typeof createFirmwareService>;
