// What locks, the device blacklist and the merchants' relocation checks share about a terminal:
// its control row (each updates its own columns) and how long commands carrying its state live.
import { eq } from 'drizzle-orm';
import { devices, type DeviceRow } from '../../schemas/db.ts';
import { terminalControl } from '../../schemas/tables/merchants.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';

/** Creates the terminal's control row if it has none (inside the caller's transaction). */
export const ensureControlRow = (tx: Tx | Db, deviceId: string) => tx.insert(terminalControl).values({ deviceId }).onConflictDoNothing();

export const deviceOrThrow = (db: Db, deviceId: string): Promise<DeviceRow> =>
  firstOrNotFound(db.select().from(devices).where(eq(devices.id, deviceId)).limit(1), `device ${deviceId}`);

/** Commands that hold a terminal's state (lock, binding) live as long as the API allows. */
export const STATE_COMMAND_TTL_S = 30 * 24 * 3600;
