// BDKs follow a master-key replacement or import: each sealed BDK (and a TDES BDK's variant) is
// resealed under the generation being introduced, before the old one is retired. Run once the
// replacement has begun (new keys already go under the next generation); a resumed replacement
// runs it again and finds nothing left to do.
import { and, eq, isNotNull, ne } from 'drizzle-orm';
import { bdks } from '../../../schemas/tables/keys.ts';
import type { Db } from '../../db/database.ts';
import type { KeyCustody } from '../keyCustody.ts';
import { bdkRef, bdkVariantRef } from './bdkCeremony.ts';

export async function resealBdks(db: Db, custody: KeyCustody, gen: number): Promise<number> {
  const rows = await db.select().from(bdks).where(and(isNotNull(bdks.sealed), ne(bdks.masterGen, gen)));
  let n = 0;
  for (const b of rows) {
    if (!b.sealed) continue;
    const key = custody.reseal({ ref: bdkRef(b.id), sealed: b.sealed });
    const variant = b.variantSealed ? custody.reseal({ ref: bdkVariantRef(b.id), sealed: b.variantSealed }) : null;
    if (!key) continue;
    // Only if unchanged meanwhile (a BDK retired stays so).
    await db
      .update(bdks)
      .set({ sealed: key.sealed, masterGen: key.masterGen, ...(variant ? { variantSealed: variant.sealed } : {}) })
      .where(and(eq(bdks.id, b.id), eq(bdks.sealed, b.sealed)));
    n++;
  }
  return n;
}
