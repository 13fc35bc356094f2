// Alone (not in a cluster) the tracker loads every open command at start. Those stored as held by
// their terminal (received, in_progress) are not sent again by the delivery rules, yet the final
// answer of one may have died with the previous process: acknowledged to the terminal (PUBACK)
// and applied in memory, not yet written behind, when it was killed. Each is reminded once, when
// its terminal is first ready here; the agent repeats a finished command's final ack
// (agent/dispatcher.ts) and ignores one still running. In a cluster, commandHolding does this
// when it adopts a terminal.
import type { CommandRow, CommandState } from '../../schemas/db.ts';
import { heldStates } from './commandRules.ts';

export function createStartReminders(deps: { remind(ids: string[]): Promise<void>; stateOf(id: string): CommandState | undefined }) {
  const due = new Map<string, string[]>();
  return {
    loaded(rows: readonly CommandRow[]) {
      for (const row of rows) if (heldStates.includes(row.state)) due.set(row.deviceId, [...(due.get(row.deviceId) ?? []), row.id]);
    },
    ready(deviceId: string) {
      const ids = due.get(deviceId);
      if (!ids) return;
      due.delete(deviceId);
      const still = ids.filter((id) => heldStates.some((s) => s === deps.stateOf(id)));
      if (still.length) void deps.remind(still);
    },
  };
}
