// Sizes and time limits of the core scenario, full and CI-sized.
import { ladder, type StepLimits } from './stats.ts';

export interface CorePlan {
  devices: number;
  rates: number[];
  stepMs: number;
  drainMs: number;
  limits: StepLimits;
  retries: number;
  /** Bisection step between the last passing and the first failing rung (msg/s). */
  resolution: number;
  connectWindow: number;
  connectTimeoutMs: number;
  settleMs: number;
  enrollConcurrency: number;
  fanoutTimeoutMs: number;
  reconnectTimeoutMs: number;
  /** Wait before the ladder so the server's ~5 s lag window no longer covers the connect storm. */
  quietMs: number;
  /** On/off pairs of the fault-rules cost measurement. */
  rulesCostPairs: number;
  /** How long a SIGTERMed server may take to exit before it is SIGKILLed. */
  shutdownGraceMs: number;
}

export const maxP99Ms = 250;

export function corePlan(devices: number, quick: boolean): CorePlan {
  return {
    devices,
    // Beyond the 14k the brief names, so a fast broker is not reported at the ladder's ceiling.
    rates: quick ? ladder(2000, 2000, 14_000) : ladder(2000, 2000, 30_000),
    stepMs: quick ? 2000 : 10_000,
    drainMs: quick ? 2000 : 5000,
    limits: { maxP99Ms, requireServerCount: true },
    retries: 1,
    resolution: 500,
    connectWindow: 100,
    connectTimeoutMs: quick ? 30_000 : 180_000,
    settleMs: quick ? 500 : 2000,
    enrollConcurrency: 64,
    fanoutTimeoutMs: quick ? 30_000 : 60_000,
    reconnectTimeoutMs: quick ? 90_000 : 300_000,
    quietMs: 6000,
    shutdownGraceMs: quick ? 10_000 : 30_000,
    rulesCostPairs: quick ? 2 : 3,
  };
}
