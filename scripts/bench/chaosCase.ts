// What one case of the `chaos` scenario is: a failure injected into real processes under load,
// and the exact counts it must leave (docs/operations.md, "Failures: what each costs"). Cases
// live one per module under scripts/bench/chaos/ and are listed in chaosCases.ts; the scenario
// (chaos.ts) runs them one after another and turns their results into the table and JSON.
import type { BenchOptions } from './scenario.ts';

export interface ChaosCaseResult {
  /** As the case's name, plus the database it ran on when it runs on both ("kill-rollout/pglite"). */
  name: string;
  /** Every exact-count check of the case held. */
  ok: boolean;
  /** Commands accepted with a 2xx during the case, and of those, how many reached a final state the terminal acked. */
  commandsAccepted: number;
  commandsAcked: number;
  /** Accepted commands neither acked nor in a final state the server explains (expired, cancelled): must be 0. */
  commandsLost: number;
  /** Terminals that ran one install (or key load) twice: must be 0. */
  duplicateInstalls: number;
  /** Seconds from the fault until the system was whole again (all terminals online, campaign final). */
  recoverySeconds: number;
  /** What failed, each check in one line; empty when ok. */
  failures: string[];
  /** Figures particular to the case, written to the JSON under reliability.cases[name]. */
  figures?: Record<string, number | string>;
}

export interface ChaosCase {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<ChaosCaseResult[]>;
}
