// Getting stored commands to their terminals: `deliver` jobs on the BullMQ queue `commands`, a
// worker that publishes to terminals holding their command subscription, re-sends when a
// terminal is back, and a sweep for what Redis or a lost job left behind.
import type { Queue } from 'bullmq';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CommandRow } from '../../schemas/db.ts';
import { retryStrategies } from '../../schemas/retry.ts';
import type { CommandMessage } from '../../schemas/wire.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import { backoffStrategyOf, customBackoff } from '../jobs/retryBackoff.ts';
import type { Logger } from '../log.ts';
import { undeliveredStates } from './commandRules.ts';
import type { CommandPatch, CommandTracker } from './commandTracker.ts';

export const COMMAND_QUEUE = 'commands';
export const DELIVERY_CHUNK = 500;
/** Publishes issued in one turn: a job's 500 at once held the broker's thread (and the acks coming back) for tens of milliseconds. */
const PUBLISH_SLICE = 100;
const DELIVERY_ATTEMPTS = 5;
/** A command untouched this long is no longer in the hands of a queued job. */
const STALE_MS = 10_000;

interface DeliveryJob {
  ids: string[];
}

export interface CommandBroker {
  isCommandReady(deviceId: string): boolean;
  sendCommand(deviceId: string, msg: CommandMessage): Promise<void>;
}

export interface CommandDeliveryDeps {
  queues: JobQueues;
  tracker: CommandTracker;
  broker: CommandBroker;
  log: Logger;
  /** The BullMQ queue's name: COMMAND_QUEUE, or an instance's own in a cluster (commandQueueName). */
  queueName?: string;
  /** Moves a command to a new state (metrics, timeline, events): the service's. */
  transition(id: string, patch: CommandPatch): CommandRow | undefined;
}

/**
 * In a cluster each instance has a queue of its own: a job names commands by id, and only the
 * tracker of the instance holding their terminal has them (and the connection to publish on), so
 * a peer's worker taking the job from a shared queue would find nothing to send and drop it.
 */
export const commandQueueName = (cluster: { clustered: boolean; instanceId: string }) =>
  cluster.clustered ? `${COMMAND_QUEUE}.${cluster.instanceId}` : COMMAND_QUEUE;

const wireMessage = (c: CommandRow): CommandMessage => ({
  id: c.id,
  type: c.type,
  issuedAt: c.issuedAt.getTime(),
  ...(c.expiresAt ? { expiresAt: c.expiresAt.getTime() } : {}),
  payload: c.payload,
});

export function createCommandDelivery(deps: CommandDeliveryDeps) {
  const { tracker, broker, log, transition } = deps;
  let queue: Queue<DeliveryJob> | undefined;

  async function enqueue(ids: string[], dedupeKey?: string) {
    if (!queue) throw new Error('command delivery is not started');
    const jobs = [];
    for (let i = 0; i < ids.length; i += DELIVERY_CHUNK) {
      jobs.push({
        name: 'deliver',
        data: { ids: ids.slice(i, i + DELIVERY_CHUNK) },
        opts: {
          attempts: DELIVERY_ATTEMPTS,
          backoff: customBackoff,
          ...(dedupeKey ? { deduplication: { id: dedupeKey } } : {}),
        },
      });
    }
    if (jobs.length) await queue.addBulk(jobs);
  }

  /**
   * Queues delivery without ever holding up the caller on Redis: the command is already stored,
   * and the stale sweep picks it up again if Redis was away.
   */
  async function enqueueSoon(ids: string[], dedupeKey?: string) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis did not answer within 2 s')), 2000);
    });
    try {
      await Promise.race([enqueue(ids, dedupeKey), timeout]);
    } catch (err) {
      log.warn({ err: (err as Error).message, commands: ids.length }, 'delivery not queued now; it will be retried');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends each command to its device if it is connected; answers the ids whose publish failed.
   * `retry` skips what is `sent` already: the failed attempt published those, and a terminal
   * coming back gets them again through onCommandReady.
   */
  async function publishAll(ids: string[], opts: { retry?: boolean } = {}): Promise<string[]> {
    const now = Date.now();
    const failed: string[] = [];
    const sends: Promise<void>[] = [];
    const send = async (id: string) => {
      const cmd = tracker.get(id);
      if (!cmd || !undeliveredStates.includes(cmd.state)) return;
      if (opts.retry && cmd.state === 'sent') return;
      if (cmd.expiresAt && cmd.expiresAt.getTime() <= now) {
        transition(id, { state: 'expired', finishedAt: new Date(now) });
        return;
      }
      // Connected is not enough: until the device holds its command subscription a publish
      // would go nowhere and the command would sit in `sent` forever.
      if (!broker.isCommandReady(cmd.deviceId)) {
        if (cmd.state !== 'queued') transition(id, { state: 'queued' });
        return;
      }
      const stateBefore = cmd.state;
      try {
        await broker.sendCommand(cmd.deviceId, wireMessage(cmd));
        const sent = { sentAt: new Date(), attempts: cmd.attempts + 1 };
        // An ack may already have overtaken the publish callback; never step back to `sent`.
        if (tracker.get(id)?.state === stateBefore) transition(id, { state: 'sent', ...sent });
        else tracker.update(id, sent);
      } catch (err) {
        log.debug({ err, cmdId: id }, 'command not published');
        failed.push(id);
      }
    };
    for (let i = 0; i < ids.length; i += PUBLISH_SLICE) {
      if (i) await nextTurn();
      for (const id of ids.slice(i, i + PUBLISH_SLICE)) sends.push(send(id));
    }
    await Promise.all(sends);
    return failed;
  }

  /** The worker's job. BullMQ retries it (retryStrategies.commandDelivery); delivered commands are skipped next time. */
  async function deliver(ids: string[], opts: { retry?: boolean } = {}) {
    const failed = await publishAll(ids, opts);
    if (failed.length) throw new Error(`${failed.length} of ${ids.length} commands could not be published`);
  }

  /**
   * Sends commands this instance has just stored and tracks, without the round trips of a job
   * through Redis: a fleet-wide batch waited half a second for its jobs to be queued and taken
   * while the broker's thread sat idle. What fails to publish goes to the queue, whose retries
   * take it from there; a crash before the sends leaves the commands `pending` in the database,
   * where the start and the stale sweep (redispatchStale) find them.
   */
  async function deliverNow(ids: string[]): Promise<void> {
    const failed = await publishAll(ids).catch((err: unknown) => {
      log.warn({ err, commands: ids.length }, 'publishing new commands failed; they are queued');
      return ids;
    });
    if (failed.length) await enqueueSoon(failed);
  }

  return {
    start() {
      const name = deps.queueName ?? COMMAND_QUEUE;
      queue = deps.queues.queue<DeliveryJob>(name);
      deps.queues.worker<DeliveryJob>(name, (job) => deliver(job.data.ids, { retry: job.attemptsMade > 0 }), {
        concurrency: 8,
        settings: { backoffStrategy: backoffStrategyOf(retryStrategies.commandDelivery) },
      });
    },
    enqueueSoon,
    deliver,
    deliverNow,

    /**
     * Publishes again, without a change of state, commands the terminal said it holds: its agent
     * ignores one it is still running and repeats the final answer of one it finished, which an
     * instance that died before writing it lost.
     */
    async remind(ids: readonly string[]) {
      for (const id of ids) {
        const cmd = tracker.get(id);
        if (!cmd || !broker.isCommandReady(cmd.deviceId)) continue;
        await broker.sendCommand(cmd.deviceId, wireMessage(cmd)).catch((err: unknown) => log.debug({ err, cmdId: id }, 'reminder not published'));
      }
    },

    /** Commands still pending after a while, or queued for a device that can receive: queue again. */
    redispatchStale() {
      const cutoff = Date.now() - STALE_MS;
      const due: string[] = [];
      for (const cmd of tracker.open()) {
        // Only what has sat untouched for a while: fresh ones are in the hands of a queued job.
        const idle = cmd.updatedAt.getTime() < cutoff;
        const stuck = idle && cmd.state === 'pending';
        const reachable = idle && cmd.state === 'queued' && broker.isCommandReady(cmd.deviceId);
        if (stuck || reachable) due.push(cmd.id);
      }
      if (due.length) void enqueueSoon(due, `redispatch:${Math.floor(Date.now() / STALE_MS)}`);
    },

    /** A device can receive again: send what it has not confirmed receiving. */
    onCommandReady(deviceId: string) {
      const due = tracker.openFor(deviceId).filter((c) => undeliveredStates.includes(c.state));
      if (due.length) {
        void enqueueSoon(
          due.map((c) => c.id),
          `redeliver:${deviceId}:${due.map((c) => c.id).join(',')}`,
        );
      }
    },
  };
}

export type CommandDelivery = ReturnType<typeof createCommandDelivery>;
