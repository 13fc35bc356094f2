// Where the commands a case had accepted ended: each one read back by id until it is final or the
// time is up. Succeeded is acked by its terminal; any other final state must be one the server
// explains (expired, cancelled), and one still open at the end is lost.
import { commandStates, finalCommandStates, type CommandState } from '../../../schemas/db.ts';
import { mapBounded, sleep } from '../util.ts';
import { ask } from './answers.ts';
import type { AcceptedCommand } from './commandLoop.ts';

export interface Outcomes {
  succeeded: number;
  /** Final states other than succeeded, by state. */
  otherFinal: Record<string, number>;
  /** Still open at the end, by state (each one lost). */
  open: Record<string, number>;
  /** Accepted ids the server does not know: lost outright. */
  unknown: number;
  seconds: number;
}

const stateOf = (body: unknown): CommandState | undefined => {
  const s = typeof body === 'object' && body !== null && 'state' in body ? body.state : undefined;
  return commandStates.find((known) => known === s);
};

export async function commandOutcomes(
  baseUrl: string,
  token: string,
  accepted: readonly AcceptedCommand[],
  timeoutMs: number,
): Promise<Outcomes> {
  const started = performance.now();
  const last = new Map<string, CommandState | 'unknown'>();
  let pending = [...accepted];
  for (let round = 0; pending.length > 0; round++) {
    await mapBounded(pending, 16, async (c) => {
      const a = await ask(
        baseUrl,
        token,
        'GET',
        `/v1/devices/${encodeURIComponent(c.deviceId)}/commands/${encodeURIComponent(c.id)}`,
        undefined,
        10_000,
      );
      if (a.status === 404) last.set(c.id, 'unknown');
      else if (a.status === 200) last.set(c.id, stateOf(a.body) ?? 'unknown');
    });
    pending = pending.filter((c) => {
      const s = last.get(c.id);
      return s === undefined || (s !== 'unknown' && !finalCommandStates.includes(s));
    });
    if (pending.length === 0 || performance.now() - started > timeoutMs) break;
    await sleep(Math.min(1000, 100 * (round + 1)));
  }
  const out: Outcomes = {
    succeeded: 0,
    otherFinal: {},
    open: {},
    unknown: 0,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  for (const c of accepted) {
    const s = last.get(c.id) ?? 'unknown';
    if (s === 'unknown') out.unknown++;
    else if (s === 'succeeded') out.succeeded++;
    else if (finalCommandStates.includes(s)) out.otherFinal[s] = (out.otherFinal[s] ?? 0) + 1;
    else out.open[s] = (out.open[s] ?? 0) + 1;
  }
  return out;
}

/** Final states the terminal's ack put the command in. */
const ackedStates: ReadonlySet<string> = new Set(['succeeded', 'failed', 'rejected']);

/** Accepted commands the terminal acked (to any final answer). */
export const ackedCount = (o: Outcomes): number =>
  o.succeeded + Object.entries(o.otherFinal).reduce((n, [state, k]) => (ackedStates.has(state) ? n + k : n), 0);

/** Accepted commands neither acked nor in a final state the server explains (expired, cancelled). */
export const lostCount = (o: Outcomes): number => o.unknown + Object.values(o.open).reduce((a, b) => a + b, 0);

/** The command counts of a ChaosCaseResult: none of these cases installs anything, so none twice. */
export const commandCounts = (accepted: number, o: Outcomes) => ({
  commandsAccepted: accepted,
  commandsAcked: ackedCount(o),
  commandsLost: lostCount(o),
  duplicateInstalls: 0,
});
