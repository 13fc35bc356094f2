// Cash-out-like patterns, pure: the same card paying again and again in a short time at one
// terminal. A flagged card token goes on the card blacklist automatically, with the reason.
export interface SeenTxn {
  cardHash: string;
  amountMinor: number;
  atMs: number;
}
export interface BurstRule {
  /** Approved payments with one card within `windowMs` that make a burst. */
  count: number;
  windowMs: number;
}
export const DEFAULT_BURST_RULE: BurstRule = { count: 5, windowMs: 10 * 60_000 };
const KEEP = 200;

/** Adds `txn` to the recent list (bounded, newest last) and says whether its card now bursts. */
export function noteTxn(recent: SeenTxn[], txn: SeenTxn, rule: BurstRule): { recent: SeenTxn[]; burst: boolean; count: number } {
  const from = txn.atMs - rule.windowMs;
  const next = [...recent.filter((r) => r.atMs > from), txn].slice(-KEEP);
  const count = next.filter((r) => r.cardHash === txn.cardHash).length;
  return { recent: next, burst: count >= rule.count, count };
}
