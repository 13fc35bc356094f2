// What runs the engine's tick every CAMPAIGN_TICK_MS, and sooner when asked (`kick`).
//
// A single instance keeps the BullMQ job scheduler it always had. A cluster cannot: a scheduler
// makes ONE job per period, which lands on ONE worker of the queue, while each instance leads
// its own campaigns and every leader must tick them; a job per leader per period would need a
// scheduler per instance that outlives it in Redis when it dies. So each instance of a cluster
// runs a local timer over the campaigns it leads: nothing shared to clean up after a death, and
// a new leader ticks what it took over at once. Sends stay exactly-once through the claim
// written before each send (memberSends.ts), not through who ticks.
import type { Queue } from 'bullmq';
import type { JobQueues } from '../jobs/jobQueues.ts';
import type { Logger } from '../log.ts';

export const CAMPAIGN_QUEUE = 'campaigns';
const SCHEDULER_ID = 'campaign-tick';

export interface CampaignTicker {
  start(): Promise<void>;
  /** A tick soon (a campaign started, resumed, crossed a phase). */
  kick(): void;
  /** No tick starts after it resolves; the one under way, if any, has ended. */
  stop(): Promise<void>;
}

export function createQueueTicker(deps: { queues: JobQueues; tickMs: number; tick: () => Promise<void> }): CampaignTicker {
  let queue: Queue | undefined;
  let kicking = false;
  let stopped = false;
  return {
    async start() {
      queue = deps.queues.queue(CAMPAIGN_QUEUE);
      deps.queues.worker(CAMPAIGN_QUEUE, () => deps.tick(), { concurrency: 1 });
      await queue.upsertJobScheduler(SCHEDULER_ID, { every: deps.tickMs }, { name: 'tick', opts: { removeOnComplete: true, removeOnFail: true } });
    },
    kick() {
      if (!queue || kicking || stopped) return;
      kicking = true;
      queue
        .add('tick', {}, { deduplication: { id: 'tick-now' }, removeOnComplete: true, removeOnFail: true })
        .catch(() => undefined)
        .finally(() => (kicking = false));
    },
    async stop() {
      // The queues close before the modules stop: the worker has finished its job by now.
      stopped = true;
    },
  };
}

export function createLocalTicker(deps: { queues: JobQueues; tickMs: number; tick: () => Promise<void>; log: Logger }): CampaignTicker {
  let interval: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  function run() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await deps.tick().catch((err: unknown) => deps.log.error({ err }, 'campaign tick failed'));
      } while (again && !stopped);
    })().finally(() => (running = undefined));
  }

  return {
    async start() {
      // A scheduler left by the same prefix run as a single instance would tick on one instance only.
      await deps.queues
        .queue(CAMPAIGN_QUEUE)
        .removeJobScheduler(SCHEDULER_ID)
        .catch((err: unknown) => deps.log.warn({ err }, 'could not remove the single-instance campaign scheduler'));
      interval = setInterval(run, deps.tickMs);
    },
    kick() {
      if (stopped) return;
      soon ??= setTimeout(() => {
        soon = undefined;
        run();
      }, 0);
    },
    async stop() {
      stopped = true;
      clearInterval(interval);
      clearTimeout(soon);
      await running;
    },
  };
}
