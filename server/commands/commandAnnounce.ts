// What a command's change tells the rest of the server: the transitions metric, the terminal's
// timeline and `command.updated` on the event bus. Runs for every ack of a fleet-wide command.
import type { CommandRow, CommandState } from '../../schemas/db.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Metrics } from '../metrics.ts';

/** State changes the timeline leaves out: the ordinary steps of every delivery. */
const quietStates: readonly CommandState[] = ['queued', 'sent', 'received'];

export function createAnnounce(deps: { metrics: Metrics; timeline: TimelineWriter; bus: EventBus }) {
  /** Metrics, timeline and `command.updated` for a change; `entered`: the state it moved to, if it moved. */
  return function announce(cmd: CommandRow, entered: CommandState | undefined) {
    if (entered) {
      deps.metrics.commandsByState.inc({ state: entered });
      if (!quietStates.includes(entered)) {
        deps.timeline.add({
          deviceId: cmd.deviceId,
          kind: 'ack',
          summary: `${cmd.type} ${entered}${cmd.stage ? ` (${cmd.stage})` : ''}${cmd.error ? `: ${cmd.error.code}` : ''}`,
          data: { cmdId: cmd.id, state: entered, stage: cmd.stage, error: cmd.error },
        });
      }
    }
    deps.bus.emit('command.updated', {
      id: cmd.id,
      deviceId: cmd.deviceId,
      type: cmd.type,
      state: cmd.state,
      batchId: cmd.batchId,
      stage: cmd.stage,
      progress: cmd.progress,
      error: cmd.error,
      result: cmd.result,
    });
  };
}
