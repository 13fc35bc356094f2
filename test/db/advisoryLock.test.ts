// Transaction-scoped advisory locks (pg_advisory_xact_lock, as the audit log and user bootstrap
// use them) make a second transaction on the same key wait until the first ends, by commit or by
// rollback, on both engines. On PGlite one session runs one transaction at a time anyway; on
// PostgreSQL the lock is what orders them.
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Tx } from '../../server/core/transaction.ts';
import { forEachDatabase } from '../helpers/databases.ts';

const HOLD_MS = 300;
const lock = (tx: Tx, key: number) => tx.execute(sql`select pg_advisory_xact_lock(${key}::bigint)`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachDatabase('advisory locks', (getDb, ctx) => {
  /** Runs a transaction holding `firstKey` for HOLD_MS and, once it holds it, another that locks `secondKey`. */
  async function contend(firstKey: number, secondKey: number, firstEnds: 'commit' | 'rollback' = 'commit') {
    const events: string[] = [];
    let held!: () => void;
    const firstHolds = new Promise<void>((resolve) => (held = resolve));
    const first = getDb()
      .transaction(async (tx) => {
        await lock(tx, firstKey);
        events.push('first locked');
        held();
        await sleep(HOLD_MS);
        events.push('first ends');
        if (firstEnds === 'rollback') throw new Error('rolled back on purpose');
      })
      .catch((err: unknown) => {
        if (firstEnds !== 'rollback') throw err;
      });
    await firstHolds;
    const second = getDb().transaction(async (tx) => {
      await lock(tx, secondKey);
      events.push('second locked');
    });
    await Promise.all([first, second]);
    return events;
  }

  it('a second transaction on the same key waits for the first to commit', async () => {
    expect(await contend(42, 42)).toEqual(['first locked', 'first ends', 'second locked']);
  });

  it('the lock is released by a rollback too', async () => {
    expect(await contend(43, 43, 'rollback')).toEqual(['first locked', 'first ends', 'second locked']);
  });

  it('is released at the end of the transaction: the next one takes it at once', async () => {
    await getDb().transaction((tx) => lock(tx, 44));
    const started = Date.now();
    await getDb().transaction((tx) => lock(tx, 44));
    expect(Date.now() - started).toBeLessThan(HOLD_MS);
  });

  it.runIf(ctx.kind === 'postgres')('another key does not wait', async () => {
    expect(await contend(45, 46)).toEqual(['first locked', 'second locked', 'first ends']);
  });

  it.runIf(ctx.kind === 'postgres')('pg_try_advisory_xact_lock says false while another transaction holds the key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const holder = getDb().transaction(async (tx) => {
      await lock(tx, 47);
      held();
      await gate;
    });
    await holding;
    const tryLock = async () => {
      const [row] = await getDb()
        .select({ got: sql<boolean>`pg_try_advisory_xact_lock(${47}::bigint)` })
        .from(sql`(values (1)) as one (x)`);
      return row?.got;
    };
    expect(await tryLock()).toBe(false);
    release();
    await holder;
    expect(await tryLock()).toBe(true);
  });
});
