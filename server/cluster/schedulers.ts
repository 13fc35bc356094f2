// A BullMQ job scheduler lives in Redis, so one upsert serves the whole cluster; N instances
// starting together upserting the same `every:` scheduler at once is where BullMQ has open bugs
// (duplicate or lost iterations). In a cluster one instance upserts it, the one that wins the
// claim; every instance still runs the queue's worker, and each job lands on one of them.
import type { JobSchedulerTemplateOptions, Queue, RepeatOptions } from 'bullmq';
import type { Cluster } from './cluster.ts';

/** Longer than a start takes; shorter than a rolling restart's gap, so a changed period is applied by the next instance started. */
const CLAIM_MS = 30_000;

export async function upsertSchedulerOnce(
  cluster: Pick<Cluster, 'clustered' | 'instances'>,
  queue: Queue,
  id: string,
  repeat: Omit<RepeatOptions, 'key'>,
  template: { name: string; data?: unknown; opts?: JobSchedulerTemplateOptions },
): Promise<boolean> {
  if (cluster.clustered && !(await cluster.instances.claim(`scheduler:${queue.name}:${id}`, CLAIM_MS))) return false;
  await queue.upsertJobScheduler(id, repeat, template);
  return true;
}
