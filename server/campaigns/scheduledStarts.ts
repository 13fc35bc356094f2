// Campaigns that start by themselves (`startAt`): a delayed BullMQ job per draft, keyed by the
// campaign's id, so a second schedule of the same draft (every engine start schedules the drafts
// again, in case Redis lost its jobs) is the same job. The start itself is the ordinary control,
// brought to the campaign's leader, audited as the scheduler's; an operator may start the draft
// earlier or cancel it, and the job then finds nothing to do.
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { campaignSpec } from '../../schemas/campaigns.ts';
import type { Worker } from 'bullmq';
import type { AuditLog } from '../audit/auditLog.ts';
import { AppError } from '../errors.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import type { Logger } from '../log.ts';
import type { ControlActor } from './campaignRouting.ts';

const QUEUE = 'campaign-starts';

interface StartJob {
  campaignId: string;
  kind: string;
}

export interface ScheduledStartsDeps {
  queues: JobQueues;
  audit: AuditLog;
  log: Logger;
  /** The drafts there are (each engine start schedules those with a `startAt` again). */
  drafts: () => Promise<CampaignRow[]>;
  start: (kind: string, id: string, by: ControlActor) => Promise<unknown>;
}

const scheduler: ControlActor = { actor: null, action: 'campaign.scheduled_start' };

export function createScheduledStarts(deps: ScheduledStartsDeps) {
  const queue = deps.queues.queue<StartJob>(QUEUE);
  let worker: Worker<StartJob> | undefined;

  async function schedule(id: string, kind: string, startAt: string) {
    const delay = Math.max(0, Date.parse(startAt) - Date.now());
    await queue.add('start', { campaignId: id, kind }, { jobId: id, delay, attempts: 5, backoff: { type: 'exponential', delay: 5_000 } });
  }

  async function run({ campaignId, kind }: StartJob) {
    try {
      await deps.start(kind, campaignId, scheduler);
    } catch (err) {
      // Refused for good (cancelled meanwhile, no free target, deleted): recorded, not retried.
      if (err instanceof AppError && err.status < 500) {
        deps.log.warn({ campaign: campaignId, code: err.code }, 'scheduled start refused');
        await deps.audit.append({ actor: null, action: 'campaign.scheduled_start_refused', target: campaignId, data: { code: err.code, message: err.message } });
        return;
      }
      throw err;
    }
  }

  return {
    schedule,
    async start() {
      worker = deps.queues.worker<StartJob>(QUEUE, (job) => run(job.data), { concurrency: 2 });
      for (const row of await deps.drafts()) {
        const spec = campaignSpec.safeParse(row.spec);
        if (spec.success && spec.data.startAt) await schedule(row.id, row.kind, spec.data.startAt);
      }
    },
    async stop() {
      await worker?.close();
    },
  };
}
