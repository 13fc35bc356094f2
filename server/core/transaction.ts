import type { Db } from '../db/database.ts';

/** A drizzle transaction on the shared schema (what `db.transaction` hands its callback). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** What a caller writes in another's transaction (its audit entry), so both commit or neither. */
export type InTx = (tx: Tx) => Promise<unknown>;
