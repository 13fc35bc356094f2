// The soak scenario's periodic commands through the API: each round a `diag.run` batch to a
// random 5 % of the fleet and a `config.set` batch to 1 %; at the end every batch is followed to
// its final counts, and a command that did not succeed is lost.
import { finalCommandStates } from '../../schemas/db.ts';
import type { Api, BatchStatus } from './api.ts';
import { errorText, sleep } from './util.ts';

export const DIAG_SHARE = 0.05;
export const CONFIG_SHARE = 0.01;

export interface SentBatch {
  batchId: string;
  type: string;
  total: number;
  atS: number;
}

export interface CommandTally {
  batches: number;
  sent: number;
  succeeded: number;
  /** Sent and not `succeeded` once the drain ended (still open, failed, expired…). */
  lost: number;
  byState: Record<string, number>;
  errors: string[];
}

function pick<T>(items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let i = 0; i < count && i < copy.length; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, count);
}

export async function sendRound(api: Api, ids: readonly string[], atS: number): Promise<SentBatch[]> {
  const diag = pick(ids, Math.max(1, Math.round(ids.length * DIAG_SHARE)));
  const config = pick(ids, Math.max(1, Math.round(ids.length * CONFIG_SHARE)));
  const sent = await Promise.all([
    api.sendCommand({ target: { deviceIds: diag }, type: 'diag.run', payload: { components: ['printer', 'cardReader', 'network'] } }),
    // The agent's normal interval: the bench terminals keep theirs, the server stores and delivers it.
    api.sendCommand({ target: { deviceIds: config }, type: 'config.set', payload: { healthIntervalS: 60 } }),
  ]);
  return [
    { ...sent[0], type: 'diag.run', atS },
    { ...sent[1], type: 'config.set', atS },
  ];
}

const settled = (b: BatchStatus) => finalCommandStates.reduce((n, s) => n + (b.counts[s] ?? 0), 0) >= b.total;

/** Follows every batch until all are final or `timeoutMs` passes; the tally of what became of them. */
export async function drainBatches(api: Api, batches: readonly SentBatch[], timeoutMs: number): Promise<CommandTally> {
  const deadline = performance.now() + timeoutMs;
  const errors: string[] = [];
  let last = new Map<string, BatchStatus>();
  for (;;) {
    const open = batches.filter((b) => {
      const seen = last.get(b.batchId);
      return !seen || !settled(seen);
    });
    if (!open.length || performance.now() >= deadline) break;
    const fresh = await Promise.all(
      open.map((b) => api.batch(b.batchId).catch((err: unknown) => (errors.push(errorText(err)), undefined))),
    );
    last = new Map([...last, ...fresh.filter((b) => b !== undefined).map((b): [string, BatchStatus] => [b.id, b])]);
    await sleep(1000);
  }
  const byState: Record<string, number> = {};
  for (const b of last.values()) for (const [state, n] of Object.entries(b.counts)) byState[state] = (byState[state] ?? 0) + n;
  const sent = batches.reduce((n, b) => n + b.total, 0);
  const succeeded = byState.succeeded ?? 0;
  return { batches: batches.length, sent, succeeded, lost: sent - succeeded, byState, errors: errors.slice(0, 5) };
}
