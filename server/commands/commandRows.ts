// A new command as the API and domain modules ask for it, and the `pending` rows it is stored as.
import type { CommandPayload } from '../../schemas/commands.ts';
import type { CommandRow } from '../../schemas/db.ts';
import type { CommandType } from '../../schemas/wire.ts';
import { newId, newIds } from '../core/ids.ts';

/** A payload may be left out only where `{}` is a valid one. */
type PayloadField<T extends CommandType> = {} extends CommandPayload<T> ? { payload?: CommandPayload<T> } : { payload: CommandPayload<T> };

/** A command to create: its type, that type's payload (schemas/commands.ts), lifetime and author. */
export type NewCommand<T extends CommandType = CommandType> = {
  type: T;
  ttlS?: number;
  createdBy: string | null;
} & PayloadField<T>;

export const newCommandId = () => newId('cmd');

/** New commands as stored: one `pending` row per device, all issued at `now`. */
export function pendingCommandRows<T extends CommandType>(
  deviceIds: readonly string[],
  input: NewCommand<T>,
  opts: { batchId: string | null; defaultTtlS: number; now: Date },
): CommandRow[] {
  const { now, batchId } = opts;
  const expiresAt = new Date(now.getTime() + (input.ttlS ?? opts.defaultTtlS) * 1000);
  const payload: CommandRow['payload'] = input.payload ?? {};
  const ids = newIds('cmd', deviceIds.length);
  return deviceIds.map((deviceId, i) => ({
    id: ids[i]!,
    deviceId,
    batchId,
    type: input.type,
    payload,
    state: 'pending',
    stage: null,
    progress: null,
    error: null,
    result: null,
    attempts: 0,
    issuedAt: now,
    expiresAt,
    sentAt: null,
    finishedAt: null,
    createdBy: input.createdBy,
    updatedAt: now,
  }));
}
