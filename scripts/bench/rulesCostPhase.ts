// What the fault rules cost on the ingest path (issue: ingest must not drop more than 5% with the
// default rules on). The ladder's 2,000 msg/s rungs are too coarse to see 5%, so this compares the
// broker's CPU per message at one fixed rate below saturation, rules on and off in turn (on, off,
// on, off) so that drift over the run falls on both sides alike. Ingest is CPU-bound, so
// cpuOff / cpuOn is the share of its rules-off throughput the server keeps with rules on.
import type { Api } from './api.ts';
import type { BrokerUnderTest } from './broker.ts';
import { runStep, settleAfterLadder, type IngestOptions } from './ingestPhase.ts';
import type { LoadgenPool } from './pool.ts';
import { round } from './util.ts';

export interface RulesCostRound {
  rules: 'on' | 'off';
  sent: number;
  acked: number;
  brokerCpuSeconds: number;
  /** The same CPU by thread: the main thread's share against the database's and GC's. */
  brokerThreadCpuSeconds: Record<string, number>;
  cpuUsPerMsg: number;
  p99Ms: number;
  /** The broker's event-loop p99 during the round (max of 1 s samples). */
  lagP99Ms: number | null;
}

export interface RulesCostResult {
  rate: number;
  rounds: RulesCostRound[];
  cpuUsPerMsgOn: number;
  cpuUsPerMsgOff: number;
  /** cpuOff / cpuOn; 1 means the rules cost nothing measurable. */
  throughputKept: number;
  /** Max event-loop p99 over the rules-on rounds: the server as shipped, at a load it sustains. */
  lagP99MsOn: number | null;
}

/** Half the sustained rate, in whole thousands: loaded, yet far from the knee where queues grow. */
export const rulesCostRate = (sustained: number): number => Math.max(1000, Math.floor(sustained / 2000) * 1000);

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/**
 * `markFirstRound`, when given, is called as the first rules-on round starts and again as it ends
 * (to profile that round alone: the server as shipped at a fixed rate).
 */
export async function rulesCostPhase(pool: LoadgenPool, broker: BrokerUnderTest, api: Api, rate: number, opts: IngestOptions, pairs = 2, markFirstRound?: () => void): Promise<RulesCostResult> {
  const defaults = await api.faultRules();
  const rounds: RulesCostRound[] = [];
  try {
    for (let i = 0; i < pairs * 2; i++) {
      const rules = i % 2 === 0 ? 'on' : 'off';
      await api.putFaultRules(rules === 'on' ? defaults : []);
      await settleAfterLadder(broker, 1000);
      if (i === 0) markFirstRound?.();
      const step = await runStep(pool, broker, rate, 0, opts);
      if (i === 0) markFirstRound?.();
      const cpuUsPerMsg = step.acked ? (step.brokerCpuSeconds * 1e6) / step.acked : Number.NaN;
      rounds.push({ rules, sent: step.sent, acked: step.acked, brokerCpuSeconds: step.brokerCpuSeconds, brokerThreadCpuSeconds: step.brokerThreadCpuSeconds, cpuUsPerMsg: round(cpuUsPerMsg, 2), p99Ms: step.latency.p99Ms, lagP99Ms: step.brokerLagP99Ms });
      opts.log(`  rules ${rules} at ${rate} msg/s: acked ${step.acked}/${step.sent}, broker ${step.brokerCpuSeconds} CPU-s, ${round(cpuUsPerMsg, 2)} µs/msg ${JSON.stringify(step.brokerThreadCpuSeconds)}, p99 ${step.latency.p99Ms} ms`);
    }
  } finally {
    await api.putFaultRules(defaults);
  }
  const on = mean(rounds.filter((r) => r.rules === 'on').map((r) => r.cpuUsPerMsg));
  const off = mean(rounds.filter((r) => r.rules === 'off').map((r) => r.cpuUsPerMsg));
  const lagsOn = rounds.flatMap((r) => (r.rules === 'on' && r.lagP99Ms !== null ? [r.lagP99Ms] : []));
  return { rate, rounds, cpuUsPerMsgOn: round(on, 2), cpuUsPerMsgOff: round(off, 2), throughputKept: round(off / on, 3), lagP99MsOn: lagsOn.length ? Math.max(...lagsOn) : null };
}
