// Faults reach people: a webhook per fault at or above the severity floor, sent by a BullMQ job
// (retried by retryStrategies.webhook), signed with HMAC-SHA256. Settings come from the API
// (stored) or, until an admin sets them there, from FAULT_WEBHOOK_URL / _MIN_SEVERITY / _SECRET.
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, type Queue } from 'bullmq';
import { Counter } from 'prom-client';
import { severities, storedNotifierSettings, type Severity } from '../../schemas/faults.ts';
import { retryStrategies } from '../../schemas/retry.ts';
import type { Tx } from '../core/transaction.ts';
import type { JobQueues } from '../jobs/jobQueues.ts';
import { backoffStrategyOf, customBackoff } from '../jobs/retryBackoff.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { SettingsStore } from './settingsStore.ts';
import { atOrAbove, DELIVERY_HEADER, EVENT_HEADER, isPermanentFailure, SIGNATURE_HEADER, signWebhook, type WebhookBody, type WebhookEvent, type WebhookFault } from './webhook.ts';

export const NOTIFY_QUEUE = 'fault-notify';

export interface NotifierSettings {
  url: string | null;
  minSeverity: Severity;
  secret: string | null;
  source: 'env' | 'api';
}

export interface NotifyJob {
  deliveryId: string;
  event: WebhookEvent;
  fault: WebhookFault | null;
}

export interface NotifierDeps {
  queues: JobQueues;
  settings: SettingsStore;
  log: Logger;
  metrics: Metrics;
  env: { url?: string; minSeverity?: Severity; secret?: string };
  /** Retry policy (tests shorten it): attempts, and the base of retryStrategies.webhook. */
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

export function createNotifier(deps: NotifierDeps) {
  let current: NotifierSettings = {
    url: deps.env.url ?? null,
    minSeverity: deps.env.minSeverity ?? 'critical',
    secret: deps.env.secret ?? null,
    source: 'env',
  };
  let queue: Queue<NotifyJob> | undefined;
  const sent = new Counter({
    name: 'posfleet_fault_notifications_total',
    help: 'Fault webhook deliveries by result',
    labelNames: ['result'],
    registers: [deps.metrics.registry],
  });

  async function load() {
    const stored = await deps.settings.get('notifier');
    if (!stored) return;
    const parsed = storedNotifierSettings.safeParse(stored.value);
    if (!parsed.success) {
      deps.log.warn({ issues: parsed.error.issues }, 'stored notifier settings are invalid; keeping the previous ones');
      return;
    }
    current = { url: parsed.data.url, minSeverity: parsed.data.minSeverity, secret: parsed.data.secret ?? null, source: 'api' };
  }

  async function deliver(job: NotifyJob, attempt: number): Promise<void> {
    const s = current;
    if (!s.url || !s.secret) {
      sent.inc({ result: 'skipped' });
      return; // turned off since the fault was queued
    }
    const body: WebhookBody = { deliveryId: job.deliveryId, event: job.event, sentAt: new Date().toISOString(), fault: job.fault };
    const text = JSON.stringify(body);
    let status: number;
    try {
      const res = await fetch(s.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'posfleet-webhook/1',
          [SIGNATURE_HEADER]: signWebhook(s.secret, text),
          [DELIVERY_HEADER]: job.deliveryId,
          [EVENT_HEADER]: job.event,
        },
        body: text,
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
    } catch (err) {
      sent.inc({ result: 'error' });
      throw new Error(`webhook ${s.url} unreachable (attempt ${attempt}): ${(err as Error).message}`, { cause: err });
    }
    if (status >= 200 && status < 300) {
      sent.inc({ result: 'delivered' });
      return;
    }
    sent.inc({ result: `http_${Math.floor(status / 100)}xx` });
    if (isPermanentFailure(status)) throw new UnrecoverableError(`webhook answered HTTP ${status}; not retrying`);
    throw new Error(`webhook answered HTTP ${status} (attempt ${attempt})`);
  }

  return {
    async start() {
      await load();
      queue = deps.queues.queue<NotifyJob>(NOTIFY_QUEUE, { attempts: deps.attempts ?? 10, backoff: customBackoff });
      const backoffStrategy = backoffStrategyOf(retryStrategies.webhook(deps.backoffMs ?? 2000));
      deps.queues.worker<NotifyJob>(NOTIFY_QUEUE, (job) => deliver(job.data, job.attemptsMade + 1), { concurrency: 4, settings: { backoffStrategy } });
    },
    reload: load,
    settings: (): NotifierSettings => current,
    /** Whether a fault of this severity is notified. */
    wants(severity: Severity): boolean {
      return Boolean(current.url && current.secret) && atOrAbove(severity, current.minSeverity);
    },
    async enqueue(items: { event: WebhookEvent; fault: WebhookFault | null }[]): Promise<void> {
      if (!queue || !items.length) return;
      await queue.addBulk(
        items.map((it) => {
          const deliveryId = `dlv_${randomBytes(9).toString('base64url')}`;
          // The job id dedupes a retried enqueue of the same fault event.
          const jobId = it.fault ? `${it.fault.id}.${it.event}` : deliveryId;
          return { name: it.event, data: { deliveryId, event: it.event, fault: it.fault }, opts: { jobId } };
        }),
      );
    },
    /** Stores new settings (with `inTx` in their transaction), then uses them; returns the generated secret when one had to be made. */
    async update(input: { url: string | null; minSeverity: Severity; secret?: string }, by: string | null, inTx: (tx: Tx, out: { generatedSecret?: string }) => Promise<unknown>): Promise<{ generatedSecret?: string }> {
      const secret = input.secret ?? current.secret ?? randomBytes(32).toString('base64url');
      const generatedSecret = input.secret === undefined && current.secret === null ? secret : undefined;
      await deps.settings.put('notifier', { url: input.url, minSeverity: input.minSeverity, secret }, by, (tx) => inTx(tx, { generatedSecret }));
      current = { url: input.url, minSeverity: input.minSeverity, secret, source: 'api' };
      return generatedSecret ? { generatedSecret } : {};
    },
    severities,
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
