// The exact counts a kill -9 case checks once the system is whole again, as pure functions of
// what the server reports (each terminal's commands, each campaign member) and what the
// terminals themselves counted (benchTerminal's ledger, the installs they carried out).
import type { CommandLedger } from '../benchTerminal.ts';
import type { ChaosCaseResult } from '../chaosCase.ts';

export interface ServerCommand {
  id: string;
  deviceId: string;
  type: string;
  state: string;
}

export interface CampaignMember {
  deviceId: string;
  state: string;
  attempt: number;
  reportedVersion: string | null;
}

/** Acked by the terminal (its final answer reached the server), or ended by the server for a reason it gives. */
const ackedStates: ReadonlySet<string> = new Set(['succeeded', 'failed', 'rejected']);
const explainedStates: ReadonlySet<string> = new Set(['expired', 'cancelled']);

export interface CommandTally {
  accepted: number;
  acked: number;
  explained: number;
  lost: number;
  byState: Record<string, number>;
  failures: string[];
}

const tallyInto = (into: Record<string, number>, key: string): void => void (into[key] = (into[key] ?? 0) + 1);

/** A few examples of what differs, so a failure line stays one line at 10,000 terminals. */
const examples = (xs: readonly string[]): string => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ', …' : ''}`;

/** The server's commands of `type` against what each terminal received: every command the server
 *  created reached its terminal as one distinct id (neither lost nor invented), and each ended
 *  acked or explained. */
export function tallyCommands(
  type: string,
  deviceIds: readonly string[],
  server: ReadonlyMap<string, readonly ServerCommand[]>,
  ledger: CommandLedger,
): CommandTally {
  const t: CommandTally = { accepted: 0, acked: 0, explained: 0, lost: 0, byState: {}, failures: [] };
  const mismatched: string[] = [];
  const open: string[] = [];
  for (const id of deviceIds) {
    const mine = (server.get(id) ?? []).filter((c) => c.type === type);
    for (const c of mine) {
      t.accepted++;
      tallyInto(t.byState, c.state);
      if (ackedStates.has(c.state)) t.acked++;
      else if (explainedStates.has(c.state)) t.explained++;
      else {
        t.lost++;
        open.push(`${c.id} (${id}) ${c.state}`);
      }
    }
    const received = ledger[id]?.[type] ?? 0;
    if (received !== mine.length) mismatched.push(`${id}: server ${mine.length}, terminal ${received}`);
  }
  if (t.lost > 0)
    t.failures.push(
      `${t.lost} of ${t.accepted} ${type} commands neither acked nor explained: ${JSON.stringify(t.byState)} (${examples(open)})`,
    );
  if (mismatched.length > 0) {
    t.failures.push(
      `${mismatched.length} terminals received another number of ${type} commands than the server created (${examples(mismatched)})`,
    );
  }
  return t;
}

/** Terminals that carried out the change more than once, and those that never did, of `expected` each. */
export function installCounts(
  deviceIds: readonly string[],
  installsByDevice: Readonly<Record<string, number>>,
  expected: number,
): { duplicates: number; failures: string[] } {
  const twice = deviceIds.filter((id) => (installsByDevice[id] ?? 0) > expected);
  const short = deviceIds.filter((id) => (installsByDevice[id] ?? 0) < expected);
  const failures: string[] = [];
  if (twice.length) failures.push(`${twice.length} terminals installed more than ${expected}× (${examples(twice)})`);
  if (short.length) failures.push(`${short.length} terminals installed fewer than ${expected}× (${examples(short)})`);
  return { duplicates: twice.length, failures };
}

/** Every target a member, every member succeeded (on `version`, for a rollout), each with as many
 *  attempts as its terminal received commands of the campaign's type. */
export function memberChecks(
  deviceIds: readonly string[],
  members: readonly CampaignMember[],
  commandsReceived: (deviceId: string) => number,
  version?: string,
): string[] {
  const failures: string[] = [];
  const byState: Record<string, number> = {};
  for (const m of members) tallyInto(byState, m.state);
  if (members.length !== deviceIds.length) failures.push(`${members.length} members for ${deviceIds.length} terminals`);
  if ((byState.succeeded ?? 0) !== deviceIds.length) failures.push(`members by state ${JSON.stringify(byState)}, not all succeeded`);
  if (version !== undefined) {
    const other = members.filter((m) => m.reportedVersion !== version).map((m) => `${m.deviceId}: ${m.reportedVersion}`);
    if (other.length) failures.push(`${other.length} members report another version than ${version} (${examples(other)})`);
  }
  const attempts = members
    .filter((m) => m.attempt !== commandsReceived(m.deviceId))
    .map((m) => `${m.deviceId}: attempt ${m.attempt}, received ${commandsReceived(m.deviceId)}`);
  if (attempts.length)
    failures.push(`${attempts.length} members whose attempts differ from the commands their terminal received (${examples(attempts)})`);
  return failures;
}

/** The generators' ledgers and install counts as one (each generator holds its own terminals). */
export function mergeTerminalSides(statuses: readonly { commandsByDevice: CommandLedger; installsByDevice?: Record<string, number> }[]): {
  ledger: CommandLedger;
  installsByDevice: Record<string, number>;
} {
  return {
    ledger: Object.assign({}, ...statuses.map((s) => s.commandsByDevice)),
    installsByDevice: Object.assign({}, ...statuses.map((s) => s.installsByDevice ?? {})),
  };
}

/** A case's result before anything was counted: not ok until its checks say so. */
export const notCounted = (name: string, failures: string[] = []): ChaosCaseResult => ({
  name,
  ok: false,
  commandsAccepted: 0,
  commandsAcked: 0,
  commandsLost: 0,
  duplicateInstalls: 0,
  recoverySeconds: 0,
  failures,
});
