// Transaction limits, pure: the server's check of reported figures and the terminal's own
// decision per payment (SPEC §6).
import { describe, expect, it } from 'vitest';
import { decidePayment, figuresToday, type PaymentContext } from '../../agent/paymentRules.ts';
import type { TerminalPolicy } from '../../schemas/binding.ts';
import { checkDailyFigures, checkTransaction } from '../../server/merchants/limits.ts';
import { DEFAULT_BURST_RULE, noteTxn, type SeenTxn } from '../../server/merchants/suspicion.ts';
import { bindingClaims } from '../helpers/binding.ts';

const policy: TerminalPolicy = {
  merchantId: 'mer_1',
  timezone: 'Asia/Shanghai',
  currency: 'CNY',
  singleAmountLimitMinor: 10_000,
  dailyCountLimit: 3,
  dailyAmountLimitMinor: 20_000,
};
const binding = bindingClaims({ iat: 0 });
// 2026-01-01 23:30 in Shanghai is 15:30 UTC.
const nowMs = Date.UTC(2026, 0, 1, 15, 30);
const ctx = (over: Partial<PaymentContext> = {}): PaymentContext => ({ binding, locked: false, policy, figures: null, nowMs, ...over });

describe('server check of reported figures', () => {
  it('flags count and amount over the daily limits, and a foreign currency', () => {
    expect(checkDailyFigures(policy, { day: '2026-01-01', count: 3, amountMinor: 20_000, currency: 'CNY' })).toEqual([]);
    expect(checkDailyFigures(policy, { day: '2026-01-01', count: 4, amountMinor: 20_001, currency: 'CNY' }).map((b) => b.rule)).toEqual([
      'daily_count',
      'daily_amount',
    ]);
    expect(checkDailyFigures(policy, { day: '2026-01-01', count: 1, amountMinor: 1, currency: 'USD' }).map((b) => b.rule)).toEqual([
      'currency',
    ]);
    expect(checkDailyFigures({ currency: 'CNY' }, { day: '2026-01-01', count: 10_000, amountMinor: 1e9, currency: 'CNY' })).toEqual([]);
  });

  it('flags one approved payment over the single limit', () => {
    const txn = { txnId: 'x', amountMinor: 10_001, currency: 'CNY', result: 'approved' as const };
    expect(checkTransaction(policy, txn).map((b) => b.rule)).toEqual(['single_amount']);
    expect(checkTransaction(policy, { ...txn, result: 'declined' })).toEqual([]);
  });
});

describe('terminal payment decision', () => {
  it('refuses while unbound or locked, for another merchant or a sub-merchant of nobody', () => {
    expect(decidePayment(ctx({ binding: null }), { amountMinor: 1 })).toEqual({ approved: false, reason: 'unbound' });
    expect(decidePayment(ctx({ locked: true }), { amountMinor: 1 })).toEqual({ approved: false, reason: 'locked' });
    expect(decidePayment(ctx(), { amountMinor: 1, merchantId: 'mer_2' })).toEqual({ approved: false, reason: 'wrong_merchant' });
    expect(decidePayment(ctx(), { amountMinor: 1, subMerchantId: 'a' })).toEqual({ approved: false, reason: 'unknown_sub_merchant' });
  });

  it('marketplace terminals name one of their sub-merchants', () => {
    const market = ctx({ binding: { ...binding, kind: 'marketplace', subMerchants: ['a', 'b'] } });
    expect(decidePayment(market, { amountMinor: 1 })).toEqual({ approved: false, reason: 'unknown_sub_merchant' });
    expect(decidePayment(market, { amountMinor: 1, subMerchantId: 'c' })).toEqual({ approved: false, reason: 'unknown_sub_merchant' });
    expect(decidePayment(market, { amountMinor: 1, subMerchantId: 'b' }).approved).toBe(true);
  });

  it('enforces single, daily count and daily amount limits on the merchant local day', () => {
    expect(decidePayment(ctx(), { amountMinor: 10_001 })).toEqual({ approved: false, reason: 'single_limit' });
    const first = decidePayment(ctx(), { amountMinor: 10_000 });
    expect(first).toEqual({ approved: true, figures: { day: '2026-01-01', count: 1, amountMinor: 10_000, currency: 'CNY' } });
    const figures = { day: '2026-01-01', count: 2, amountMinor: 15_000, currency: 'CNY' };
    expect(decidePayment(ctx({ figures }), { amountMinor: 5_001 })).toEqual({ approved: false, reason: 'daily_amount_limit' });
    expect(decidePayment(ctx({ figures: { ...figures, count: 3 } }), { amountMinor: 1 })).toEqual({
      approved: false,
      reason: 'daily_count_limit',
    });
    // Thirty minutes later it is a new day in Shanghai: the counters start over.
    expect(decidePayment(ctx({ figures: { ...figures, count: 3 }, nowMs: nowMs + 3_600_000 }), { amountMinor: 1 })).toMatchObject({
      approved: true,
      figures: { day: '2026-01-02', count: 1 },
    });
    expect(figuresToday({ policy, figures, nowMs: nowMs + 3_600_000 })).toEqual({
      day: '2026-01-02',
      count: 0,
      amountMinor: 0,
      currency: 'CNY',
    });
  });

  it('refuses a blocked card and a foreign currency; ignores a policy of another merchant', () => {
    const cardHash = 'a'.repeat(64);
    expect(
      decidePayment(ctx({ cardBlacklist: { version: 1, salt: 'c2FsdA==', hashes: [cardHash] } }), { amountMinor: 1, cardHash }),
    ).toEqual({ approved: false, reason: 'card_blocked' });
    expect(decidePayment(ctx(), { amountMinor: 1, currency: 'USD' })).toEqual({ approved: false, reason: 'currency' });
    expect(decidePayment(ctx({ policy: { ...policy, merchantId: 'mer_old' } }), { amountMinor: 1_000_000 }).approved).toBe(true);
  });
});

describe('cash-out burst rule', () => {
  it('flags one card paying again and again within the window', () => {
    let recent: SeenTxn[] = [];
    const flags: boolean[] = [];
    for (let i = 0; i < DEFAULT_BURST_RULE.count; i++) {
      const r = noteTxn(recent, { cardHash: 'c1', amountMinor: 100_000, atMs: i * 1000 }, DEFAULT_BURST_RULE);
      recent = r.recent;
      flags.push(r.burst);
    }
    expect(flags).toEqual([false, false, false, false, true]);
    // Spread beyond the window: never a burst.
    let spread: SeenTxn[] = [];
    for (let i = 0; i < 10; i++) {
      const r = noteTxn(spread, { cardHash: 'c1', amountMinor: 1, atMs: i * DEFAULT_BURST_RULE.windowMs }, DEFAULT_BURST_RULE);
      spread = r.recent;
      expect(r.burst).toBe(false);
    }
  });
});
