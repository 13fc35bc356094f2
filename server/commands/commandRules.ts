// How acks move a command through its states. Pure: unit-tested without a broker.
import { finalCommandStates, type CommandRow, type CommandState } from '../../schemas/db.ts';
import { abortableCommandTypes, type AckMessage } from '../../schemas/wire.ts';

const finalStates: ReadonlySet<CommandState> = new Set(finalCommandStates);
/** Asked several times for every ack: a set lookup rather than a scan of the list. */
export const isFinal = (s: CommandState) => finalStates.has(s);

/** States in which the device has not confirmed it holds the command: re-send on reconnect. */
export const undeliveredStates: readonly CommandState[] = ['pending', 'queued', 'sent'];

/** Stored as held by the terminal: not sent again by the delivery rules, so reminded once when loaded. */
export const heldStates: readonly CommandState[] = ['received', 'in_progress'];

/** States in which the device may hold the command and be working on it: a cancel asks it to abort. */
export const maybeRunningStates: readonly CommandState[] = ['sent', 'received', 'in_progress'];

/** Longest an abort request (`cancel` command) waits for an offline device. */
export const ABORT_MAX_TTL_S = 3600;

/**
 * Whether cancelling this command should also send the device a `cancel` for it, and with what
 * lifetime: only long-running types the agent can stop, only once delivered, and no longer than
 * the original could still run (capped at ABORT_MAX_TTL_S). Null: nothing to ask the device.
 */
export function abortRequest(cmd: { type: string; state: CommandState; expiresAt: Date | null }, nowMs: number): { ttlS: number } | null {
  if (!abortableCommandTypes.some((t) => t === cmd.type) || !maybeRunningStates.includes(cmd.state)) return null;
  const leftS = cmd.expiresAt ? Math.ceil((cmd.expiresAt.getTime() - nowMs) / 1000) : ABORT_MAX_TTL_S;
  if (leftS <= 0) return null;
  return { ttlS: Math.min(ABORT_MAX_TTL_S, leftS) };
}

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

/** The fields of a command an ack may change. */
export type AckPatch = Partial<Pick<CommandRow, 'state' | 'stage' | 'progress' | 'error' | 'result' | 'finishedAt'>>;

/** What an ack changes in its command: its state, stage, progress, error and result; empty when nothing. */
export function patchAfterAck(current: CommandState, ack: AckMessage, now: () => Date = () => new Date()): AckPatch {
  const next = stateAfterAck(current, ack.state);
  const patch: AckPatch = {};
  if (next) patch.state = next;
  if (ack.stage !== undefined) patch.stage = ack.stage;
  if (ack.progress !== undefined) patch.progress = Math.round(ack.progress);
  if (ack.error) patch.error = ack.error;
  if (ack.result) patch.result = ack.result;
  if (next && isFinal(next)) patch.finishedAt = now();
  if (next === 'succeeded') patch.progress = 100;
  return patch;
}

/** Per-type payload rules for commands an operator may send directly. */
export const operatorCommandTypes = ['reboot', 'diag.run', 'lock', 'unlock', 'logs.upload', 'config.set'] as const;
export type OperatorCommandType = (typeof operatorCommandTypes)[number];

export const MIN_TTL_S = 1;
export const MAX_TTL_S = 30 * 24 * 3600;
