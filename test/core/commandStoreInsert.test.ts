// A batch's commands are inserted with the columns they share sent once (commandStore.insertShared):
// what is stored must be exactly what the row-by-row insert stores, and rows that do not share
// them (a payload of their own) must still be stored as they are.
import { eq } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { commands, devices, type CommandRow } from '../../schemas/db.ts';
import { pendingCommandRows } from '../../server/commands/commandRows.ts';
import { createCommandStore } from '../../server/commands/commandStore.ts';
import { createLogger } from '../../server/log.ts';
import { createMetrics } from '../../server/metrics.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const ids = Array.from({ length: 1_203 }, (_, i) => `dev_${String(i).padStart(4, '0')}`);

forEachDatabase('command store inserts', (getDb) => {
  beforeEach(async () => {
    await truncateAll(getDb());
    await getDb().insert(devices).values(ids.map((id) => ({ id, serial: id, model: 'M' })));
  });

  const store = () => createCommandStore({ db: getDb(), metrics: createMetrics(), log: createLogger('silent') });
  const stored = async (batchId: string) => {
    const rows = await getDb().select().from(commands).where(eq(commands.batchId, batchId)).orderBy(commands.deviceId);
    return rows.map(({ id: _id, batchId: _batch, ...rest }) => rest);
  };
  const batchOf = (batchId: string, now: Date) =>
    pendingCommandRows(ids, { type: 'diag.run', payload: { components: ['printer'] }, ttlS: 120, createdBy: 'usr_1' }, { batchId, defaultTtlS: 60, now });

  it('stores a batch sent with its shared columns once exactly as row by row, across chunks', async () => {
    const now = new Date('2026-12-08T10:00:00.123Z');
    await getDb().transaction(async (tx) => store().insertShared(batchOf('bat_shared', now), tx));
    await getDb().transaction(async (tx) => store().insert(batchOf('bat_rows', now), tx));
    const shared = await stored('bat_shared');
    expect(shared).toHaveLength(ids.length);
    expect(shared).toEqual(await stored('bat_rows'));
    expect(shared[0]).toMatchObject({ state: 'pending', attempts: 0, payload: { components: ['printer'] }, createdBy: 'usr_1', issuedAt: now, expiresAt: new Date(now.getTime() + 120_000), updatedAt: now });
  });

  it('stores rows that do not share their columns each as it is', async () => {
    const list: CommandRow[] = batchOf('bat_mixed', new Date()).slice(0, 3);
    list[1] = { ...list[1]!, payload: { components: ['network'] } };
    await getDb().transaction(async (tx) => store().insertShared(list, tx));
    const rows = await getDb().select({ id: commands.id, payload: commands.payload }).from(commands).where(eq(commands.batchId, 'bat_mixed'));
    expect(new Map(rows.map((r) => [r.id, r.payload]))).toEqual(new Map(list.map((r) => [r.id, r.payload])));
  });
});
