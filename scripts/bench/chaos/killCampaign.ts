// What the rollout and rotation kill cases share: the kill mid-campaign and the way back (server
// ready, fleet online, campaign polled to its end), and their outcome from the checks made after.
import { pollCampaign, type CampaignAnswer } from '../campaignRun.ts';
import type { PosfleetFixture } from '../fixture.ts';
import { round } from '../util.ts';
import type { CampaignMember, CommandTally } from './killChecks.ts';
import { inFlight, killWhen, midCampaign, restartAfterKill, stateCounts, waitFleetOnline, type KillOutcome } from './killRun.ts';

export interface KilledCampaign {
  /** Members by state at the last poll before the kill. */
  atKill: Record<string, number>;
  readySeconds: number;
  end: CampaignAnswer;
  recoverySeconds: number;
}

/** `path`: the started campaign (`/v1/rollouts/{id}`, `/v1/key-rotations/{id}`) of `n` members. */
export async function killMidCampaign(fx: PosfleetFixture, n: number, path: string, log: (l: string) => void): Promise<KilledCampaign> {
  const { last, killedAt } = await killWhen(
    fx,
    () => stateCounts(fx.api, path),
    midCampaign(n),
    'members in flight a quarter of the way in',
  );
  log(`  killed at ${JSON.stringify(last)}`);
  const readySeconds = await restartAfterKill(fx, killedAt);
  log(`  ready again after ${readySeconds} s`);
  await waitFleetOnline(fx.api, n, 120_000);
  const end = await pollCampaign(fx.api, path, 180_000);
  const recoverySeconds = round((performance.now() - killedAt) / 1000, 2);
  log(`  ${end.state} ${recoverySeconds} s after the kill: ${JSON.stringify(end.counts)}`);
  return { atKill: last, readySeconds, end, recoverySeconds };
}

/** `checks`: the failures of the case's own checks (members, earlier campaigns). */
export function campaignOutcome(
  k: KilledCampaign,
  members: readonly CampaignMember[],
  tally: CommandTally,
  installs: { duplicates: number; failures: string[] },
  checks: readonly string[],
): KillOutcome {
  return {
    commandsAccepted: tally.accepted,
    commandsAcked: tally.acked,
    commandsLost: tally.lost,
    duplicateInstalls: installs.duplicates,
    recoverySeconds: k.recoverySeconds,
    failures: [
      ...(k.end.state === 'succeeded' ? [] : [`campaign ended ${k.end.state}: ${JSON.stringify(k.end.counts)}`]),
      ...checks,
      ...tally.failures,
      ...installs.failures,
    ],
    figures: {
      devices: members.length,
      succeededAtKill: k.atKill.succeeded ?? 0,
      inFlightAtKill: inFlight(k.atKill),
      readySeconds: k.readySeconds,
      retriedMembers: members.filter((m) => m.attempt > 1).length,
      commandsByState: JSON.stringify(tally.byState),
    },
  };
}
