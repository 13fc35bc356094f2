// Whether the terminal may take a payment, pure (SPEC §6): never while unbound or locked, never
// for another merchant or an unknown sub-merchant, never a blocked card, and within the
// merchant's limits (single amount, daily count, daily amount) even while offline.
import { localDay, type BindingClaims, type CardBlacklistConfig, type TerminalPolicy, type TxnDeclineReason } from '../schemas/binding.ts';
import type { DayFigures } from './merchantState.ts';

export interface PaymentRequest {
  amountMinor: number;
  currency?: string;
  /** The merchant the payment app thinks it is paying (a mis-configured app names another). */
  merchantId?: string;
  subMerchantId?: string;
  cardHash?: string;
}

export interface PaymentContext {
  binding: BindingClaims | null;
  locked: boolean;
  policy?: TerminalPolicy;
  cardBlacklist?: CardBlacklistConfig;
  figures: DayFigures | null;
  nowMs: number;
}

export type PaymentDecision = { approved: true; figures: DayFigures } | { approved: false; reason: TxnDeclineReason };

/** Today's figures (zero on a new local day of the merchant). */
export function figuresToday(ctx: Pick<PaymentContext, 'policy' | 'figures' | 'nowMs'>): DayFigures {
  const day = localDay(ctx.nowMs, ctx.policy?.timezone ?? 'UTC');
  const currency = ctx.policy?.currency ?? ctx.figures?.currency ?? 'XXX';
  return ctx.figures && ctx.figures.day === day ? ctx.figures : { day, count: 0, amountMinor: 0, currency };
}

export function decidePayment(ctx: PaymentContext, req: PaymentRequest): PaymentDecision {
  const b = ctx.binding;
  if (!b) return { approved: false, reason: 'unbound' };
  if (ctx.locked) return { approved: false, reason: 'locked' };
  if (req.merchantId !== undefined && req.merchantId !== b.merchantId) return { approved: false, reason: 'wrong_merchant' };
  if (b.kind === 'marketplace') {
    if (!req.subMerchantId || !(b.subMerchants ?? []).includes(req.subMerchantId))
      return { approved: false, reason: 'unknown_sub_merchant' };
  } else if (req.subMerchantId !== undefined) {
    return { approved: false, reason: 'unknown_sub_merchant' };
  }
  if (req.cardHash && ctx.cardBlacklist?.hashes.includes(req.cardHash)) return { approved: false, reason: 'card_blocked' };
  // A policy for another merchant (a late message from before a re-binding) does not apply.
  const policy = ctx.policy && ctx.policy.merchantId === b.merchantId ? ctx.policy : undefined;
  const today = figuresToday({ ...ctx, policy });
  if (policy) {
    if (req.currency !== undefined && req.currency !== policy.currency) return { approved: false, reason: 'currency' };
    if (policy.singleAmountLimitMinor !== undefined && req.amountMinor > policy.singleAmountLimitMinor)
      return { approved: false, reason: 'single_limit' };
    if (policy.dailyCountLimit !== undefined && today.count + 1 > policy.dailyCountLimit)
      return { approved: false, reason: 'daily_count_limit' };
    if (policy.dailyAmountLimitMinor !== undefined && today.amountMinor + req.amountMinor > policy.dailyAmountLimitMinor)
      return { approved: false, reason: 'daily_amount_limit' };
  }
  return { approved: true, figures: { ...today, count: today.count + 1, amountMinor: today.amountMinor + req.amountMinor } };
}
