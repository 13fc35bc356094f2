// Rotation policy per key type (SPEC §5): keys older than `maxAgeDays` are rotated by a key-
// rotation campaign that the policy job creates and starts. The job runs on a BullMQ job
// scheduler (upsertJobScheduler), so one server of several runs it per period.
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { KeyUsage } from '../../schemas/keyCrypto/header.ts';
import { compromisedDevices, keyPolicies, keys } from '../../schemas/tables/keys.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';

export const POLICY_QUEUE = 'key-policy';
export const POLICY_SCHEDULER = 'key-rotation-policy';
const MAX_PER_RUN = 100_000;

/** Pure: the cut-off before which an installed key of a policy is due. */
export const dueBefore = (nowMs: number, maxAgeDays: number) => new Date(nowMs - maxAgeDays * 86_400_000);

/**
 * Devices whose installed key of `usage` is older than the policy allows and that are free:
 * `busy` (the campaign engine's read API) says which are already in a key rotation.
 */
export async function devicesDue(
  db: Db,
  usage: KeyUsage,
  maxAgeDays: number,
  nowMs: number,
  busy: (ids: readonly string[]) => Promise<ReadonlySet<string>>,
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ deviceId: keys.deviceId })
    .from(keys)
    .where(
      and(
        eq(keys.usage, usage),
        eq(keys.state, 'installed'),
        lt(keys.installedAt, dueBefore(nowMs, maxAgeDays)),
        sql`not exists (select 1 from ${compromisedDevices} c where c.device_id = ${keys.deviceId})`,
      ),
    )
    .limit(MAX_PER_RUN);
  const ids = rows.map((r) => r.deviceId);
  const inRotation = await busy(ids);
  return ids.filter((id) => !inRotation.has(id));
}

export async function listPolicies(db: Db) {
  return db.select().from(keyPolicies).orderBy(keyPolicies.usage);
}

/** Inside `tx`, so that the caller's audit entry commits with it. */
export async function setPolicy(tx: Tx, usage: KeyUsage, maxAgeDays: number | null, by: string) {
  if (maxAgeDays === null) {
    await tx.delete(keyPolicies).where(inArray(keyPolicies.usage, [usage]));
    return null;
  }
  const [row] = await tx
    .insert(keyPolicies)
    .values({ usage, maxAgeDays, updatedBy: by })
    .onConflictDoUpdate({ target: keyPolicies.usage, set: { maxAgeDays, updatedBy: by, updatedAt: new Date() } })
    .returning();
  return row;
}
