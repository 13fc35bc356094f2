// Simulated payment traffic for simulated terminals, so that limits and monitoring have
// something to chew on. Patterns:
//   steady  – independent payments, exponential gaps, amounts spread around a mean;
//   burst   – steady, with now and then a rush of quick payments (lunch hour);
//   cashout – steady, with now and then one card paying round, near-limit amounts again and
//             again within minutes (the cash-out pattern the server's rules look for).
import type { PaymentApp, Payment } from './paymentApp.ts';

export const paymentPatterns = ['steady', 'burst', 'cashout'] as const;
export type PaymentPattern = (typeof paymentPatterns)[number];

export interface PaymentTraffic {
  pattern: PaymentPattern;
  /** Mean gap between payments, seconds. */
  meanIntervalS: number;
  /** Mean amount, minor units. */
  meanAmountMinor: number;
  /** Chance that the next payment starts a burst / cash-out run. */
  runChance?: number;
  /** Payments in a burst or cash-out run. */
  runLength?: number;
  /** Distinct cards the terminal sees. */
  cards?: number;
  /** Share (0..1) of payments made with a PIN, enciphered under the terminal's DUKPT slot if it has one. */
  pinShare?: number;
}

export interface PlannedPayment {
  delayMs: number;
  payment: Payment;
}

export interface TrafficState {
  /** Payments left in the current run, and its card. */
  runLeft: number;
  runCard: string;
}

const pan = (n: number) => `4${String(400_000_000_000_000 + n).padStart(15, '0')}`;

/** The next payment and when, pure given `random`. */
export function nextPayment(
  t: PaymentTraffic,
  s: TrafficState,
  random: () => number,
  ctx: { subMerchants?: string[]; singleLimitMinor?: number },
): { plan: PlannedPayment; state: TrafficState } {
  const next = nextPlainPayment(t, s, random, ctx);
  // Drawn only when PINs are asked for, so seeded traffic without them stays as it was.
  if (!t.pinShare || random() >= t.pinShare) return next;
  const pin = String(Math.floor(random() * 10_000)).padStart(4, '0');
  return { ...next, plan: { ...next.plan, payment: { ...next.plan.payment, pin } } };
}

function nextPlainPayment(
  t: PaymentTraffic,
  s: TrafficState,
  random: () => number,
  ctx: { subMerchants?: string[]; singleLimitMinor?: number },
): { plan: PlannedPayment; state: TrafficState } {
  const cards = Math.max(1, t.cards ?? 500);
  const expo = (mean: number) => -Math.log(1 - random()) * mean;
  const sub = ctx.subMerchants?.length ? { subMerchantId: ctx.subMerchants[Math.floor(random() * ctx.subMerchants.length)]! } : {};
  let state = s;
  if (state.runLeft === 0 && t.pattern !== 'steady' && random() < (t.runChance ?? 0.05)) {
    state = { runLeft: t.runLength ?? 8, runCard: pan(Math.floor(random() * cards)) };
  }
  if (state.runLeft > 0) {
    const next = { ...state, runLeft: state.runLeft - 1 };
    if (t.pattern === 'cashout') {
      const cap = ctx.singleLimitMinor ?? t.meanAmountMinor * 20;
      const amount = Math.max(100, Math.floor((cap * (0.9 + random() * 0.1)) / 10_000) * 10_000 || cap);
      return {
        plan: { delayMs: Math.round(expo((t.meanIntervalS * 1000) / 3)), payment: { amountMinor: amount, pan: state.runCard, ...sub } },
        state: next,
      };
    }
    return {
      plan: {
        delayMs: Math.round(expo((t.meanIntervalS * 1000) / 10)),
        payment: { amountMinor: Math.max(1, Math.round(expo(t.meanAmountMinor))), pan: pan(Math.floor(random() * cards)), ...sub },
      },
      state: next,
    };
  }
  return {
    plan: {
      delayMs: Math.round(expo(t.meanIntervalS * 1000)),
      payment: { amountMinor: Math.max(1, Math.round(expo(t.meanAmountMinor))), pan: pan(Math.floor(random() * cards)), ...sub },
    },
    state,
  };
}

export interface TrafficStats {
  approved: number;
  declined: Record<string, number>;
}

/** Runs traffic against a terminal's payment app until stopped. */
export function startSimulatedPayments(
  app: PaymentApp,
  t: PaymentTraffic,
  random: () => number,
  onResult?: (approved: boolean, reason?: string) => void,
): { stop(): void; stats(): TrafficStats } {
  let state: TrafficState = { runLeft: 0, runCard: '' };
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const stats: TrafficStats = { approved: 0, declined: {} };
  const arm = () => {
    if (stopped) return;
    const binding = app.binding();
    const next = nextPayment(t, state, random, {
      subMerchants: binding?.subMerchants,
      singleLimitMinor: app.policy()?.singleAmountLimitMinor,
    });
    state = next.state;
    timer = setTimeout(() => {
      timer = null;
      if (stopped) return;
      // An unbound terminal has no payment app to speak of: wait for a binding.
      if (app.binding()) {
        const r = app.pay(next.plan.payment);
        if (r.approved) stats.approved++;
        else stats.declined[r.reason] = (stats.declined[r.reason] ?? 0) + 1;
        onResult?.(r.approved, r.approved ? undefined : r.reason);
      }
      arm();
    }, next.plan.delayMs);
    timer.unref?.();
  };
  arm();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    stats: () => structuredClone(stats),
  };
}
