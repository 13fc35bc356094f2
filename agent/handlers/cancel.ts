// cancel (an extension to SPEC §3, docs/protocol.md): asks the command named in the payload to
// stop. Answers `succeeded {aborted: true}` once it has stopped (it acks `failed` `cancelled`
// itself), or `rejected` with `too_late` (past its point of no return: it carries on),
// `not_running` (unknown or already over) or `not_abortable`.
import { cancelErrorCodes } from '../../schemas/wire.ts';
import { CommandError, type AbortOutcome, type CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

const refusals: Record<Exclude<AbortOutcome, 'aborted'>, { code: string; message: string }> = {
  too_late: { code: cancelErrorCodes.tooLate, message: 'the command is past its point of no return and carries on' },
  not_running: { code: cancelErrorCodes.notRunning, message: 'no such command is queued or running' },
  not_abortable: { code: cancelErrorCodes.notAbortable, message: 'the command cannot be stopped part way' },
};

export const cancelHandler =
  (env: HandlerEnv): CommandHandler<'cancel'> =>
  async (ctx) => {
    const { cmdId } = ctx.payload;
    const outcome = cmdId === ctx.command.id || !ctx.abortCommand ? 'not_running' : await ctx.abortCommand(cmdId);
    env.log.info({ cmdId, outcome }, 'cancel requested');
    if (outcome === 'aborted') return { aborted: true, cmdId };
    const r = refusals[outcome];
    throw new CommandError(r.code, `${cmdId}: ${r.message}`, 'rejected');
  };
