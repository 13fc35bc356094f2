// The one command dispatcher (SPEC §3): validate, dedupe, check expiry, then parse the payload by
// its type (schemas/commands.ts), run the handler with it and report received → in_progress… →
// succeeded | failed | rejected. Commands run one at a time, in
// arrival order, because a terminal cannot sensibly diagnose while it reboots or installs.
// `cancel` is the exception: it runs at once, beside the queue, and aborts a command that is
// queued or running (each accepted command holds an AbortController until it is final).
import type { Logger } from 'pino';
import { parseCommandPayload, type ParsedPayload } from '../schemas/commands.ts';
import {
  abortableCommandTypes,
  cancelErrorCodes,
  commandMessage,
  commandTypes,
  type AckMessage,
  type AckResult,
  type CommandMessage,
  type CommandType,
} from '../schemas/wire.ts';
import type { SeenLog } from './seen.ts';

/** What a request to abort a command came to. */
export type AbortOutcome = 'aborted' | 'too_late' | 'not_running' | 'not_abortable';

export interface HandlerContext<T extends CommandType = CommandType> {
  command: CommandMessage;
  /** The command's payload, parsed by its type's schema: a payload that does not fit never gets here. */
  payload: ParsedPayload<T>;
  /** Sends an `in_progress` ack. */
  progress(stage: string, progress?: number): void;
  // The three below are always set by the dispatcher; absent only when a test calls a handler directly.
  /** Aborted when a `cancel` for this command arrives before its point of no return. */
  signal?: AbortSignal;
  /**
   * Marks the point of no return: a `cancel` from now on is answered `too_late`. Throws
   * CommandError `cancelled` instead if the abort came first (the handler cleans up and stops).
   */
  pointOfNoReturn?(): void;
  /** For the `cancel` handler: aborts another command; resolves once it has stopped (or could not). */
  abortCommand?(cmdId: string): Promise<AbortOutcome>;
}

/** Resolves with the `result` of a `succeeded` ack; throws CommandError for anything else. */
/** A handler's answer is the `result` of its `succeeded` ack. */
export type CommandHandler<T extends CommandType = CommandType> = (ctx: HandlerContext<T>) => Promise<AckResult | void>;
export type HandlerRegistry = { [T in CommandType]?: CommandHandler<T> };

export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly state: 'failed' | 'rejected' | 'deferred' = 'failed',
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface DispatcherDeps {
  handlers: HandlerRegistry;
  seen: SeenLog;
  sendAck(ack: AckMessage): void;
  now: () => number;
  log: Logger;
  /** Observes every command that passed validation (type) or failed it ('invalid'). */
  onCommand?(type: CommandType | 'invalid'): void;
}

export interface Dispatcher {
  /** Resolves once the command (if any) has reached its final ack. */
  handle(payload: Buffer | string): Promise<void>;
  /** Settles commands a crash or restart cut short (see below). */
  recoverInterrupted(): void;
}

const MAX_MESSAGE = 1000;
/** Run at once rather than behind the command under way: they act on it. */
const immediateTypes: readonly CommandType[] = ['cancel'];

interface InFlight {
  type: CommandType;
  controller: AbortController;
  phase: 'queued' | 'running' | 'committed';
  /** Resolves with the final ack (or the deferral). */
  done: Promise<AckMessage>;
  settle(ack: AckMessage): void;
}

export const cancelledError = (message = 'cancelled by the server') => new CommandError(cancelErrorCodes.cancelled, message, 'failed');
const cancelledAck = (id: string, message: string): AckMessage => ({
  cmdId: id,
  state: 'failed',
  error: { code: cancelErrorCodes.cancelled, message },
});

const isCommandType = (t: unknown): t is CommandType => typeof t === 'string' && (commandTypes as readonly string[]).includes(t);

export function createDispatcher(d: DispatcherDeps): Dispatcher {
  let queue: Promise<void> = Promise.resolve();
  const inFlight = new Map<string, InFlight>();

  function track(cmd: CommandMessage): InFlight {
    let settle: (ack: AckMessage) => void = () => undefined;
    const done = new Promise<AckMessage>((r) => (settle = r));
    const entry: InFlight = { type: cmd.type, controller: new AbortController(), phase: 'queued', done, settle };
    inFlight.set(cmd.id, entry);
    return entry;
  }

  async function abortCommand(cmdId: string): Promise<AbortOutcome> {
    const entry = inFlight.get(cmdId);
    if (!entry) return d.seen.get(cmdId)?.final?.state === 'succeeded' ? 'too_late' : 'not_running';
    if (entry.phase === 'committed') return 'too_late';
    if (entry.phase === 'queued') {
      // Not started: it never will be.
      entry.controller.abort();
      inFlight.delete(cmdId);
      const ack = cancelledAck(cmdId, 'cancelled before it started');
      finish(cmdId, entry.type, ack);
      entry.settle(ack);
      return 'aborted';
    }
    if (!abortableCommandTypes.includes(entry.type)) return 'not_abortable';
    entry.controller.abort();
    const ack = await entry.done;
    return ack.state === 'succeeded' ? 'too_late' : 'aborted';
  }

  const finish = (id: string, type: string, ack: AckMessage) => {
    d.seen.finish(id, type, d.now(), ack);
    d.sendAck(ack);
  };
  const reject = (id: string, type: string, code: string, message: string) =>
    finish(id, type, { cmdId: id, state: 'rejected', error: { code, message } });

  // Generic in the command type, so the handler and the parsed payload are of the same type.
  async function run<T extends CommandType>(cmd: CommandMessage, type: T, handler: CommandHandler<T>, entry: InFlight): Promise<void> {
    // Cancelled while it waited its turn: already answered.
    if (entry.controller.signal.aborted) return;
    entry.phase = 'running';
    const { signal } = entry.controller;
    let ack: AckMessage;
    const committed = () => entry.phase === 'committed';
    try {
      const parsed = parseCommandPayload(type, cmd.payload);
      if (!parsed.ok) throw new CommandError('invalid_payload', parsed.issues.map((i) => `${i.path || '(payload)'}: ${i.message}`).join('; '), 'rejected');
      const ctx: HandlerContext<T> = {
        command: cmd,
        payload: parsed.payload,
        progress: (stage, progress) =>
          d.sendAck({ cmdId: cmd.id, state: 'in_progress', stage: stage.slice(0, 64), ...(progress === undefined ? {} : { progress }) }),
        signal,
        pointOfNoReturn() {
          if (signal.aborted) throw cancelledError();
          entry.phase = 'committed';
        },
        abortCommand,
      };
      const result = (await handler(ctx)) ?? {};
      ack = { cmdId: cmd.id, state: 'succeeded', result };
      finish(cmd.id, cmd.type, ack);
    } catch (err) {
      const e = err instanceof CommandError ? err : new CommandError('internal_error', (err as Error).message ?? String(err));
      if (!(err instanceof CommandError)) d.log.error({ err, cmdId: cmd.id, type: cmd.type }, 'command handler crashed');
      ack = { cmdId: cmd.id, state: e.state, error: { code: e.code, message: e.message.slice(0, MAX_MESSAGE) } };
      // Stopped by a cancel before its point of no return: whatever broke on the way out, it was the cancel.
      if (signal.aborted && !committed() && e.code !== cancelErrorCodes.cancelled)
        ack = cancelledAck(cmd.id, `cancelled by the server (${e.code})`);
      if (ack.state === 'deferred') {
        d.seen.forget(cmd.id);
        d.sendAck(ack);
      } else finish(cmd.id, cmd.type, ack);
    } finally {
      inFlight.delete(cmd.id);
    }
    entry.settle(ack);
  }

  /** A valid, new, unexpired command: acked `received`, then run now or in its turn. */
  function accept<T extends CommandType>(cmd: CommandMessage, type: T): Promise<void> {
    const handler = d.handlers[type];
    if (!handler) {
      reject(cmd.id, type, 'unsupported_command', `this agent does not support ${type}`);
      return Promise.resolve();
    }
    d.seen.start(cmd.id, type, d.now());
    d.sendAck({ cmdId: cmd.id, state: 'received' });
    const entry = track(cmd);
    if (immediateTypes.includes(type)) return run(cmd, type, handler, entry);
    const done = queue.then(() => run(cmd, type, handler, entry));
    queue = done;
    return done;
  }

  function handleInvalid(json: unknown, issue: string): void {
    const o = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
    const id = typeof o.id === 'string' && o.id.length > 0 && o.id.length <= 64 ? o.id : null;
    d.onCommand?.('invalid');
    if (!id) {
      d.log.warn({ issue }, 'dropped a command without a usable id');
      return;
    }
    const seen = d.seen.get(id);
    if (seen?.final) return d.sendAck(seen.final);
    const type = typeof o.type === 'string' ? o.type.slice(0, 64) : 'unknown';
    if (typeof o.type === 'string' && !isCommandType(o.type)) reject(id, type, 'unsupported_command', `unknown command type ${type}`);
    else reject(id, type, 'invalid_command', issue.slice(0, MAX_MESSAGE));
  }

  return {
    handle(payload) {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString());
      } catch {
        d.onCommand?.('invalid');
        d.log.warn('dropped a command that is not JSON');
        return Promise.resolve();
      }
      const parsed = commandMessage.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        handleInvalid(json, issue);
        return Promise.resolve();
      }
      const cmd = parsed.data;
      const seen = d.seen.get(cmd.id);
      if (seen) {
        // Finished: the server may have missed the answer, so repeat it (and only it).
        if (seen.final) d.sendAck(seen.final);
        return Promise.resolve();
      }
      d.onCommand?.(cmd.type);
      if (cmd.expiresAt !== undefined && cmd.expiresAt <= d.now()) {
        reject(cmd.id, cmd.type, 'expired', `command expired at ${new Date(cmd.expiresAt).toISOString()}`);
        return Promise.resolve();
      }
      return accept(cmd, cmd.type);
    },
    // A command cut short by a crash or power loss: a reboot that was under way has evidently
    // happened; anything else is reported failed rather than silently re-run.
    recoverInterrupted() {
      for (const e of d.seen.unfinished()) {
        if (e.type === 'reboot') finish(e.id, e.type, { cmdId: e.id, state: 'succeeded', result: { recovered: true } });
        else finish(e.id, e.type, { cmdId: e.id, state: 'failed', error: { code: 'interrupted', message: 'the agent restarted while the command ran' } });
      }
    },
  };
}
