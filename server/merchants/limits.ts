// Transaction policy checks on what terminals report, pure (SPEC §6). The agent enforces the
// same limits itself; a report above them means a terminal that did not (old or tampered
// software, a clock moved back) and is a breach.
import type { TerminalPolicy, TxnEventData } from '../../schemas/binding.ts';
import type { HealthSample } from '../../schemas/wire.ts';

export type TxnFigures = NonNullable<HealthSample['txn']>;
export type Limits = Pick<TerminalPolicy, 'currency' | 'singleAmountLimitMinor' | 'dailyCountLimit' | 'dailyAmountLimitMinor'>;

export interface Breach {
  rule: 'daily_count' | 'daily_amount' | 'single_amount' | 'currency';
  limit: number | string;
  actual: number | string;
}

/** Daily figures (`txn` of a health sample) against the daily limits. */
export function checkDailyFigures(limits: Limits, txn: TxnFigures): Breach[] {
  const out: Breach[] = [];
  if (txn.count > 0 && txn.currency !== limits.currency) out.push({ rule: 'currency', limit: limits.currency, actual: txn.currency });
  if (limits.dailyCountLimit !== undefined && txn.count > limits.dailyCountLimit)
    out.push({ rule: 'daily_count', limit: limits.dailyCountLimit, actual: txn.count });
  if (limits.dailyAmountLimitMinor !== undefined && txn.currency === limits.currency && txn.amountMinor > limits.dailyAmountLimitMinor) {
    out.push({ rule: 'daily_amount', limit: limits.dailyAmountLimitMinor, actual: txn.amountMinor });
  }
  return out;
}

/** One reported transaction against the single-amount limit (approved ones only). */
export function checkTransaction(limits: Limits, txn: TxnEventData): Breach[] {
  if (txn.result !== 'approved') return [];
  if (txn.currency !== limits.currency) return [{ rule: 'currency', limit: limits.currency, actual: txn.currency }];
  if (limits.singleAmountLimitMinor !== undefined && txn.amountMinor > limits.singleAmountLimitMinor) {
    return [{ rule: 'single_amount', limit: limits.singleAmountLimitMinor, actual: txn.amountMinor }];
  }
  return [];
}
