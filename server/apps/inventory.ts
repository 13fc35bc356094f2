// Terminals' reported app inventories (the `apps` member of their state message), kept in
// device_apps so campaigns screen on them and the fleet query filters on them (`app.<name>`).
// A state message arrives on every connect: only an inventory that differs from the one last
// written is written again, and writes for one terminal run in order.
import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { AppInventory } from '../../schemas/apps.ts';
import { deviceApps } from '../../schemas/tables/apps.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../log.ts';

const keyOf = (inv: AppInventory) =>
  inv
    .map((a) => `${a.packageName}@${a.version}`)
    .sort()
    .join(',');

export function createAppInventory(deps: { db: Db; log: Logger }) {
  const { db } = deps;
  const written = new Map<string, string>();
  // What terminals reported to this instance since it started: newer than any campaign's snapshot.
  const heard = new Map<string, Map<string, string>>();
  const chains = new Map<string, Promise<void>>();

  async function replace(deviceId: string, inv: AppInventory): Promise<void> {
    // One entry per package: a terminal reporting a package twice keeps the last version it named.
    const byName = new Map(inv.map((a) => [a.packageName, a.version]));
    await db.transaction(async (tx) => {
      const names = [...byName.keys()];
      await tx
        .delete(deviceApps)
        .where(and(eq(deviceApps.deviceId, deviceId), names.length ? notInArray(deviceApps.packageName, names) : undefined));
      if (names.length)
        await tx
          .insert(deviceApps)
          .values(names.map((packageName) => ({ deviceId, packageName, version: byName.get(packageName)!, updatedAt: new Date() })))
          .onConflictDoUpdate({ target: [deviceApps.deviceId, deviceApps.packageName], set: { version: sql`excluded.version`, updatedAt: new Date() } });
    });
  }

  return {
    /** Records a reported inventory (fire and forget: called on the ingest path). */
    report(deviceId: string, inv: AppInventory): void {
      const key = keyOf(inv);
      if (written.get(deviceId) === key) return;
      written.set(deviceId, key);
      heard.set(deviceId, new Map(inv.map((a) => [a.packageName, a.version])));
      const next = (chains.get(deviceId) ?? Promise.resolve())
        .then(() => replace(deviceId, inv))
        .catch((err: unknown) => {
          written.delete(deviceId);
          deps.log.warn({ deviceId, err: (err as Error).message }, 'app inventory not stored');
        });
      chains.set(deviceId, next);
      void next.finally(() => chains.get(deviceId) === next && chains.delete(deviceId));
    },
    /** Resolves once every inventory reported so far is written. */
    async settled(): Promise<void> {
      await Promise.all([...chains.values()]);
    },
    forget(deviceId: string): void {
      written.delete(deviceId);
      heard.delete(deviceId);
    },
    /** The version of `packageName` a terminal reported to this instance (null: reported, not installed; undefined: not heard). */
    heardVersion(deviceId: string, packageName: string): string | null | undefined {
      const inv = heard.get(deviceId);
      return inv ? (inv.get(packageName) ?? null) : undefined;
    },
    async of(deviceId: string): Promise<AppInventory> {
      const rows = await db
        .select({ packageName: deviceApps.packageName, version: deviceApps.version })
        .from(deviceApps)
        .where(eq(deviceApps.deviceId, deviceId))
        .orderBy(deviceApps.packageName);
      return rows;
    },
    /** deviceId → installed version of `packageName`, for those of `deviceIds` that have it. */
    async versionsOf(packageName: string, deviceIds?: readonly string[]): Promise<Map<string, string>> {
      const rows = await db
        .select({ deviceId: deviceApps.deviceId, version: deviceApps.version })
        .from(deviceApps)
        .where(and(eq(deviceApps.packageName, packageName), deviceIds ? inArray(deviceApps.deviceId, [...deviceIds]) : undefined));
      return new Map(rows.map((r) => [r.deviceId, r.version]));
    },
  };
}

export type AppInventoryStore = ReturnType<typeof createAppInventory>;
