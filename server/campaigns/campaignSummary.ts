// What `GET /v1/rollouts/{id}` (and key rotations) answer: the campaign row, its spec and
// params, and per phase the counts of its members by state. Pure: the engine passes the counts
// from memory (running campaigns) or from the database (the others).
import { campaignDeviceStates, type CampaignSpec } from '../../schemas/campaigns.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { isFinalDeviceState, phasePassed, phaseTripped, tally, type StateCounts } from './campaignRules.ts';
import type { MemberCount } from './campaignStore.ts';

export interface MemberCounts {
  /** Per phase, every member by state. */
  phases: StateCounts[];
  /** Members whose revert is not final yet (also counted in their phase). */
  reverting: number;
}

/** Counts from grouped rows; every member counts in its phase, open reverts also in `reverting`. */
export function countsFromGroups(groups: readonly MemberCount[], phaseCount: number): MemberCounts {
  const phases: StateCounts[] = Array.from({ length: phaseCount }, () => ({}));
  let reverting = 0;
  for (const g of groups) {
    if (g.action === 'revert' && !isFinalDeviceState(g.state)) reverting += g.n;
    const phase = (phases[g.phase] ??= {});
    phase[g.state] = (phase[g.state] ?? 0) + g.n;
  }
  return { phases, reverting };
}

const nonZero = (counts: StateCounts) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n));
const members = (counts: StateCounts) => Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);

export interface SummaryInput {
  row: CampaignRow;
  spec: CampaignSpec;
  counts: MemberCounts;
  /** The kind's one-line description, while the campaign runs. */
  openSummary: string | null;
  kindLane: string;
}

export function campaignSummary({ row, spec, counts, openSummary, kindLane }: SummaryInput) {
  const totals: StateCounts = {};
  for (const s of campaignDeviceStates) totals[s] = counts.phases.reduce((a, p) => a + (p[s] ?? 0), 0);
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    state: row.state,
    pausedReason: row.pausedReason,
    tripped: row.tripped,
    rollingBack: row.rollingBack,
    seed: row.seed,
    summary: openSummary,
    ...row.params,
    ...spec,
    phases: spec.phases.map((p, i) => {
      const phase = counts.phases[i] ?? {};
      const t = tally(phase);
      return {
        index: i,
        name: p.name,
        percent: p.percent,
        started: i < row.phasesStarted,
        startedAt: row.phaseStartedAt[i] ?? null,
        devices: members(phase),
        counts: nonZero(phase),
        total: t.total,
        succeeded: t.succeeded,
        errors: t.errors,
        passed: i < row.phasesStarted && phasePassed(t, spec.successThreshold),
        overErrorThreshold: phaseTripped(t, spec.errorThreshold),
      };
    }),
    counts: nonZero(totals),
    reverting: counts.reverting,
    kindLane,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

export type CampaignSummary = ReturnType<typeof campaignSummary>;
