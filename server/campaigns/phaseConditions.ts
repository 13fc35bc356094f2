// What a campaign does next, from its tallies: one small evaluator per condition, in the order
// they are asked (after hawkBit's one-class-per-condition rollout evaluators: success, error,
// finish each answer alone). The first that fires decides; the error rule comes before success,
// so a phase that both passes and trips stops. Pure, unit-tested without the engine.
import type { CampaignSpec } from '../../schemas/campaigns.ts';
import type { CampaignState } from '../../schemas/tables/campaigns.ts';
import { phasePassed, phaseTripped, tally, type PhaseTally, type StateCounts } from './campaignRules.ts';

export interface EngineView {
  state: CampaignState;
  phasesStarted: number;
  /** Per phase: every member by its state (open reverts included, as their current state). */
  phases: StateCounts[];
  errorBaseline: readonly number[];
  rollingBack: boolean;
  /** Reverts not yet final. */
  revertsOpen: number;
  dynamic: boolean;
}

export type Decision =
  | { kind: 'none' }
  | { kind: 'trip'; phase: number; tally: PhaseTally; rollback: boolean }
  | { kind: 'start_phase'; phase: number }
  | { kind: 'finish'; state: 'succeeded' | 'failed' };

export type ConditionSpec = Pick<CampaignSpec, 'successThreshold' | 'errorThreshold' | 'onErrorThreshold'>;

/** One condition: its decision when it holds, else null. */
export type PhaseCondition = (v: EngineView, spec: ConditionSpec) => Exclude<Decision, { kind: 'none' }> | null;

/** A rollback is over once no revert is open and nothing sent before the trip is still working. */
export const rollbackDone: PhaseCondition = (v) => {
  const inFlight = v.phases.some((p) => tally(p).inFlight > 0);
  return v.revertsOpen === 0 && !inFlight && v.state !== 'failed' ? { kind: 'finish', state: 'failed' } : null;
};

/** Any started phase over its error threshold (above what an operator resumed past) stops the campaign. */
export const errorThresholdCrossed: PhaseCondition = (v, spec) => {
  for (let i = 0; i < v.phasesStarted; i++) {
    const t = tally(v.phases[i] ?? {});
    if (phaseTripped(t, spec.errorThreshold, v.errorBaseline[i] ?? 0))
      return { kind: 'trip', phase: i, tally: t, rollback: spec.onErrorThreshold === 'rollback' };
  }
  return null;
};

/** The newest started phase reached its success threshold: the next one starts. */
export const successThresholdReached: PhaseCondition = (v, spec) => {
  const current = v.phasesStarted - 1;
  if (current < 0 || v.phasesStarted >= v.phases.length) return null;
  return phasePassed(tally(v.phases[current] ?? {}), spec.successThreshold) ? { kind: 'start_phase', phase: v.phasesStarted } : null;
};

/** Every phase started and every member final: succeeded if every phase passed. A dynamic campaign stays open. */
export const allMembersFinal: PhaseCondition = (v, spec) => {
  if (v.dynamic || v.phasesStarted !== v.phases.length) return null;
  const tallies = v.phases.map(tally);
  if (!tallies.every((t) => t.inFlight === 0 && t.pending === 0)) return null;
  return { kind: 'finish', state: tallies.every((t) => phasePassed(t, spec.successThreshold)) ? 'succeeded' : 'failed' };
};

const whileRollingBack: readonly PhaseCondition[] = [rollbackDone];
const whileRunning: readonly PhaseCondition[] = [errorThresholdCrossed, successThresholdReached, allMembersFinal];

/** What a campaign should do next, from its counts. */
export function decide(v: EngineView, spec: ConditionSpec): Decision {
  const conditions = v.rollingBack ? whileRollingBack : v.state === 'running' ? whileRunning : [];
  for (const condition of conditions) {
    const d = condition(v, spec);
    if (d) return d;
  }
  return { kind: 'none' };
}
