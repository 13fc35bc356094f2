// Bulk acknowledge / resolve: one call per fault (the API has no batch route), a few at a time,
// every outcome kept, so the summary can say what was done and what was refused with its code.
import { ApiError } from '../../../apiClient.ts';

export interface BulkFailure<T> {
  item: T;
  code: string;
  message: string;
}
export interface BulkOutcome<T> {
  done: T[];
  failed: BulkFailure<T>[];
}

const AT_ONCE = 4;

export async function runBulk<T>(items: T[], act: (item: T) => Promise<unknown>): Promise<BulkOutcome<T>> {
  const outcome: BulkOutcome<T> = { done: [], failed: [] };
  const one = async (item: T) => {
    try {
      await act(item);
      outcome.done.push(item);
    } catch (err) {
      outcome.failed.push({
        item,
        code: err instanceof ApiError ? err.code : 'network_error',
        message: err instanceof Error ? err.message : String(err),
      });
    }
  };
  for (let i = 0; i < items.length; i += AT_ONCE) await Promise.all(items.slice(i, i + AT_ONCE).map(one));
  return outcome;
}

/** "Acknowledged 2 of 3 faults; 1 refused (already_acknowledged ×1)." */
export function bulkSummary(verb: string, outcome: BulkOutcome<unknown>): string {
  const total = outcome.done.length + outcome.failed.length;
  const head = `${verb} ${outcome.done.length} of ${total} fault${total === 1 ? '' : 's'}`;
  if (!outcome.failed.length) return `${head}.`;
  const byCode = new Map<string, number>();
  for (const f of outcome.failed) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
  const codes = [...byCode].map(([code, n]) => `${code} ×${n}`).join(', ');
  return `${head}; ${outcome.failed.length} refused (${codes}).`;
}
