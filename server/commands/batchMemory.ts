// The batch rows this process created, kept beside their counts in the tracker: a batch row
// never changes once stored, so its status can be answered without the database.
import type { commandBatches } from '../../schemas/db.ts';

export type BatchRow = typeof commandBatches.$inferSelect;

/** As many as the tracker keeps counts for (commandTracker.ts): older batches are read from the database. */
const MAX_BATCHES = 1000;

export function createBatchMemory() {
  const rows = new Map<string, BatchRow>();
  return {
    keep(row: BatchRow) {
      rows.set(row.id, row);
      if (rows.size > MAX_BATCHES) rows.delete(rows.keys().next().value!);
    },
    get: (id: string) => rows.get(id),
  };
}
