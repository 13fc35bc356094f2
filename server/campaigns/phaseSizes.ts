// How many of n target devices each phase takes: the planner's arithmetic on its own, with no
// hashing or I/O, so the campaign engine's draw (campaignRules.ts drawPhases) and the console's
// preview of a campaign not yet started (client/console/views/campaigns/) size phases alike.

/**
 * Phase i ends at round(n · cum(i) / 100) of the shuffled list (the last phase at n); a phase
 * whose end does not pass the previous one's is empty.
 */
export function phaseSizes(n: number, phasePercents: readonly number[]): number[] {
  let cum = 0;
  let from = 0;
  return phasePercents.map((p, i) => {
    cum += p;
    const to = i === phasePercents.length - 1 ? n : Math.min(n, Math.round((n * cum) / 100));
    const size = Math.max(0, to - from);
    from = Math.max(from, to);
    return size;
  });
}
