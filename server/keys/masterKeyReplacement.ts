// Master-key replacement and import (dual control): every stored key re-encrypted under a new master key,
// page by page. Resumable: each row records its generation, so a restart continues with the rows
// still under the old one; the new key becomes the master key only once none is left.
import { and, eq, gt, isNotNull, ne, asc } from 'drizzle-orm';
import { keys } from '../../schemas/tables/keys.ts';
import type { Db } from '../db/database.ts';
import type { KeyUsage } from '../../schemas/keyCrypto/header.ts';
import type { KeyVault } from './keyVault.ts';
import type { MasterGenerations } from './vaultMasters.ts';

const PAGE = 500;

export interface ReplacementDeps {
  db: Db;
  vault: KeyVault;
  masters: MasterGenerations;
  progress(p: Record<string, unknown>): Promise<void>;
  /** The generation to re-encrypt into; default: begin (or resume) a replacement by a fresh key.
   *  A master-key import passes its own (its key is already waiting as the next generation). */
  begin?(): Promise<number>;
}

export async function replaceMasterKey(deps: ReplacementDeps): Promise<Record<string, unknown>> {
  const { db, vault } = deps;
  const gen = await (deps.begin ? deps.begin() : deps.masters.beginReplacement());
  let resealed = 0;
  let after = '';
  for (;;) {
    const page = await db
      .select({ id: keys.id, deviceId: keys.deviceId, usage: keys.usage, version: keys.version, sealed: keys.sealed })
      .from(keys)
      .where(and(isNotNull(keys.sealed), ne(keys.masterGen, gen), gt(keys.id, after)))
      .orderBy(asc(keys.id))
      .limit(PAGE);
    if (!page.length) break;
    await db.transaction(async (tx) => {
      for (const k of page) {
        const next = vault.reseal({ ref: { keyId: k.id, deviceId: k.deviceId, usage: k.usage as KeyUsage, version: k.version }, sealed: k.sealed! });
        if (!next) continue;
        // Only if unchanged meanwhile (a key ended or destroyed stays so).
        await tx.update(keys).set({ sealed: next.sealed, masterGen: next.masterGen }).where(and(eq(keys.id, k.id), eq(keys.sealed, k.sealed!)));
        resealed++;
      }
    });
    after = page[page.length - 1]!.id;
    await deps.progress({ gen, resealed });
  }
  await deps.masters.finishReplacement();
  return { gen, resealed };
}
