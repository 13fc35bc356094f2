// The one account of rows a write-behind drops: a line each naming the buffer and the row's key,
// never the row (it may carry a secret), and a count by buffer and reason for alerting.
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DroppedRow } from './jsonBulkWrite.ts';

export interface DropAccount<R> {
  buffer: string;
  /** What names the row in a log line: ids, never content. */
  key: (row: R) => string;
  log: Logger;
  metrics: Pick<Metrics, 'writeBehindDropped'>;
}

export function reportDropped<R>(dropped: readonly DroppedRow<R>[], account: DropAccount<R>): void {
  for (const { row, reason, error } of dropped) {
    account.log.error(
      { buffer: account.buffer, key: account.key(row), reason, err: error },
      'write-behind row dropped: it can never be written',
    );
    account.metrics.writeBehindDropped.inc({ buffer: account.buffer, reason });
  }
}
