// How acks move a command through its states. Pure: unit-tested without a broker.
import { finalCommandStates, type CommandState } from '../../schemas/db.ts';
import type { AckMessage } from '../../schemas/wire.ts';

export const isFinal = (s: CommandState) => finalCommandStates.includes(s);

/** States in which the device has not confirmed it holds the command: re-send on reconnect. */
export const undeliveredStates: readonly CommandState[] = ['pending', 'queued', 'sent'];

/** The state an ack moves a command to, or null when the ack changes nothing (late, duplicate). */
export function stateAfterAck(current: CommandState, ack: AckMessage['state']): CommandState | null {
  if (isFinal(current)) return null;
  switch (ack) {
    case 'received':
      return undeliveredStates.includes(current) ? 'received' : null;
    case 'in_progress':
    case 'deferred':
    case 'succeeded':
    case 'failed':
    case 'rejected':
      return ack;
  }
}

/** Per-type payload rules for commands an operator may send directly. */
export const operatorCommandTypes = ['reboot', 'diag.run', 'lock', 'unlock', 'logs.upload', 'config.set'] as const;
export type OperatorCommandType = (typeof operatorCommandTypes)[number];

export const MIN_TTL_S = 1;
export const MAX_TTL_S = 30 * 24 * 3600;
