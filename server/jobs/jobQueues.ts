// BullMQ plumbing shared by every domain: one Redis connection per role, queue names under a
// hash-tagged prefix (so a Redis Cluster keeps a queue's keys in one slot), metrics per queue.
import { Queue, Worker, type Job, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export interface JobQueues {
  /** Opens queue `name` for its one owner (opening it twice is a programming error). */
  queue<T>(name: string, defaults?: JobsOptions): Queue<T>;
  worker<T>(name: string, processor: Processor<T>, opts?: Partial<WorkerOptions>): Worker<T>;
  /** Stops workers first (in-flight jobs finish or go back to the queue), then queues. */
  close(): Promise<void>;
  sampleDepths(): Promise<void>;
  ping(): Promise<boolean>;
}

export function createJobQueues(deps: { redisUrl: string; prefix: string; log: Logger; metrics: Metrics }): JobQueues {
  const prefix = `{${deps.prefix}}`;
  const connections: Redis[] = [];
  const connect = () => {
    const c = new Redis(deps.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true });
    c.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
    connections.push(c);
    return c;
  };
  const shared = connect();
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];

  return {
    queue<T>(name: string, defaults: JobsOptions = {}) {
      // Each queue has one owner that holds it: a second open would be a second owner.
      if (queues.has(name)) throw new Error(`queue ${name} is already open`);
      const q = new Queue<T>(name, {
        connection: shared,
        prefix,
        defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 }, ...defaults },
      });
      q.on('error', (err) => deps.log.warn({ err: err.message, queue: name }, 'queue error'));
      queues.set(name, q);
      return q;
    },
    worker<T>(name: string, processor: Processor<T>, opts: Partial<WorkerOptions> = {}) {
      const w = new Worker<T>(name, processor, { connection: connect(), prefix, concurrency: 4, ...opts });
      w.on('completed', (job: Job<T>) => deps.metrics.jobLatency.observe({ queue: name }, (Date.now() - job.timestamp) / 1000));
      w.on('failed', (job, err) => deps.log.warn({ queue: name, jobId: job?.id, err: err.message }, 'job failed'));
      w.on('error', (err) => deps.log.warn({ err: err.message, queue: name }, 'worker error'));
      workers.push(w);
      return w;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
    async ping() {
      return (await shared.ping()) === 'PONG';
    },
    async sampleDepths() {
      for (const [name, q] of queues) {
        const counts = await q.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
        deps.metrics.queueDepth.set({ queue: name }, Object.values(counts).reduce((a, b) => a + b, 0));
      }
    },
  };
}
