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
import { isUniqueViolation } from '../core/sqlState.ts';
import { conflict, unprocessable } from '../errors.ts';
import { keyMatching, publicIdPattern } from '../http/cursorParts.ts';
import type { ArtifactStorage } from './artifactStorage.ts';

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

  return {
    byId,

    /** 201 with a new artifact, or the existing one for the very same manifest (idempotent). */
    /** `inTx` runs in the insert's transaction (the audit entry: both commit or neither). */
    async create(
      input: { manifest: FirmwareManifest; signature: string },
      createdBy: string,
      inTx: (tx: Tx, row: FirmwareRow) => Promise<unknown>,
    ): Promise<{ row: FirmwareRow; created: boolean }> {
      const manifest = firmwareManifest.parse(input.manifest);
      const keys = deps.publisherKeys();
      if (keys.length === 0)
        throw unprocessable(
          'bad_signature',
          'no firmware publisher key is trusted: set FIRMWARE_PUBLISHER_KEYS to the publisher public key(s) (scripts/sign-firmware.ts keygen prints one) and restart the server',
        );
      const signer = manifestSigner(manifest, input.signature, keys);
      if (!signer)
        throw unprocessable('bad_signature', 'the signature does not verify with any trusted publisher key over the canonical manifest');
      const [existing] = await db
        .select()
        .from(firmware)
        .where(and(eq(firmware.name, manifest.name), eq(firmware.version, manifest.version)))
        .limit(1);
      if (existing) {
        if (existing.sha256 === manifest.sha256 && existing.size === manifest.size) return { row: existing, created: false };
        throw conflict('version_exists', `${manifest.name} ${manifest.version} already exists with other content`, { id: existing.id });
      }
      try {
        const row = await db.transaction(async (tx) => {
          const [r] = await tx
            .insert(firmware)
            .values({
              id: newFirmwareId(),
              name: manifest.name,
              version: manifest.version,
              models: manifest.models,
              size: manifest.size,
              sha256: manifest.sha256,
              manifest,
              signature: input.signature,
              publisherKey: signer,
              createdBy,
            })
            .returning();
          await inTx(tx, r!);
          return r!;
        });
        return { row, created: true };
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('version_exists', `${manifest.name} ${manifest.version} already exists`, undefined, { cause: err });
        throw err;
      }
    },

    /** Streams the image in; on a size or sha256 mismatch nothing is kept (422 hash_mismatch). */
    /** `inTx` runs in the transaction that marks it ready (the audit entry: both commit or neither). */
    async upload(id: string, body: Readable, inTx: (tx: Tx, row: FirmwareRow) => Promise<unknown>): Promise<FirmwareRow> {
      const row = await byId(id);
      if (row.state === 'ready') {
        body.resume();
        await db.transaction((tx) => inTx(tx, row));
        return row;
      }
      // Stored by sha256: identical bytes of another artifact are simply written again, verified.
      const put = await deps.storage.put(body, { size: row.size, sha256: row.sha256 });
      if (!put.ok)
        throw unprocessable('hash_mismatch', `content ${put.reason} does not match the manifest`, {
          expected: { size: row.size, sha256: row.sha256 },
          got: { size: put.size, sha256: put.sha256 },
        });
      return db.transaction(async (tx) => {
        const [done] = await tx.update(firmware).set({ state: 'ready', readyAt: new Date() }).where(eq(firmware.id, id)).returning();
        await inTx(tx, done!);
        return done!;
      });
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
