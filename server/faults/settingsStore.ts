// Settings of the faults domain (the rule set, the webhook notifier), one JSON value per key.
import { eq, inArray } from 'drizzle-orm';
import type { FaultRuleSet, StoredNotifierSettings } from '../../schemas/faults.ts';
import { faultSettings } from '../../schemas/tables/faults.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';

/** What each key is written as. Read back as `unknown`: a stored value may predate its schema, so readers parse it. */
interface SettingValues {
  rules: FaultRuleSet;
  notifier: StoredNotifierSettings;
}
export type SettingKey = keyof SettingValues;

/** `changed`: told each key written, after its commit (the cluster tells the other instances). */
export function createSettingsStore(db: Db, opts: { changed?: (key: SettingKey) => void } = {}) {
  return {
    async get(key: SettingKey): Promise<{ value: unknown; updatedAt: Date; updatedBy: string | null } | null> {
      const [row] = await db.select().from(faultSettings).where(eq(faultSettings.key, key)).limit(1);
      return row ? { value: row.value, updatedAt: row.updatedAt, updatedBy: row.updatedBy } : null;
    },
    /** Writes one key; `inTx` (its audit entry) runs in the same transaction: both commit or neither. */
    async put<K extends SettingKey>(key: K, value: SettingValues[K], updatedBy: string | null, inTx: (tx: Tx) => Promise<unknown>): Promise<Date> {
      const updatedAt = new Date();
      await db.transaction(async (tx) => {
        await tx
          .insert(faultSettings)
          .values({ key, value, updatedBy, updatedAt })
          .onConflictDoUpdate({ target: faultSettings.key, set: { value, updatedBy, updatedAt } });
        await inTx(tx);
      });
      opts.changed?.(key);
      return updatedAt;
    },
    /** When each key last changed (to notice another instance's edits). */
    async versions(keys: SettingKey[]): Promise<Map<string, number>> {
      const rows = await db.select({ key: faultSettings.key, updatedAt: faultSettings.updatedAt }).from(faultSettings).where(inArray(faultSettings.key, keys));
      return new Map(rows.map((r) => [r.key, r.updatedAt.getTime()]));
    },
  };
}

export type SettingsStore = ReturnType<typeof createSettingsStore>;
