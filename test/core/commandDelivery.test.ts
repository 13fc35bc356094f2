// Command delivery's BullMQ job on the real Redis: a publish that fails is retried after the wait
// of retryStrategies.commandDelivery (the worker's custom backoff), and a command already sent
// is not sent again. The terminal side is a recorder of publish calls, because what is under
// test is the queue's retry, not MQTT (test/core/commands.test.ts covers the real broker).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandRow } from '../../schemas/db.ts';
import { retryDelay, retryStrategies } from '../../schemas/retry.ts';
import type { CommandMessage } from '../../schemas/wire.ts';
import { createCommandDelivery } from '../../server/commands/commandDelivery.ts';
import { createCommandTracker } from '../../server/commands/commandTracker.ts';
import { createJobQueues, type JobQueues } from '../../server/jobs/jobQueues.ts';
import { createLogger } from '../../server/log.ts';
import { createMetrics } from '../../server/metrics.ts';
import { eventually } from '../helpers/eventually.ts';

const row = (id: string, deviceId: string): CommandRow => ({
  id,
  deviceId,
  batchId: null,
  type: 'reboot',
  payload: {},
  state: 'pending',
  stage: null,
  progress: null,
  error: null,
  result: null,
  attempts: 0,
  issuedAt: new Date(),
  expiresAt: new Date(Date.now() + 60_000),
  sentAt: null,
  finishedAt: null,
  createdBy: null,
  updatedAt: new Date(),
});

describe('command delivery job', () => {
  let queues: JobQueues | undefined;
  afterEach(async () => {
    await queues?.close();
  });

  it('retries a failed publish after the table wait and sends each command once', async () => {
    queues = createJobQueues({
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: `test-delivery-${randomBytes(4).toString('hex')}`,
      log: createLogger('silent'),
      metrics: createMetrics(),
    });
    const tracker = createCommandTracker();
    const publishes: { id: string; at: number; ok: boolean }[] = [];
    let refuseNext = true;
    const delivery = createCommandDelivery({
      queues,
      tracker,
      log: createLogger('silent'),
      broker: {
        isCommandReady: () => true,
        async sendCommand(_deviceId: string, msg: CommandMessage) {
          // The first publish of cmd_b fails, as a broker whose client went away would.
          const ok = !(msg.id === 'cmd_b' && refuseNext);
          if (!ok) refuseNext = false;
          publishes.push({ id: msg.id, at: Date.now(), ok });
          if (!ok) throw new Error('client gone');
        },
      },
      transition: (id, patch) => tracker.update(id, patch),
    });
    tracker.add(row('cmd_a', 'dev_1'));
    tracker.add(row('cmd_b', 'dev_2'));
    delivery.start();
    await delivery.enqueueSoon(['cmd_a', 'cmd_b']);

    await eventually(() => tracker.get('cmd_b')?.state === 'sent', { stepMs: 20, what: 'cmd_b sent after a retry' });
    expect(tracker.get('cmd_a')?.state).toBe('sent');
    expect(publishes.filter((p) => p.id === 'cmd_a')).toHaveLength(1);
    const [failed, retried] = publishes.filter((p) => p.id === 'cmd_b');
    expect(failed?.ok).toBe(false);
    expect(retried?.ok).toBe(true);
    const firstWait = retryDelay(retryStrategies.commandDelivery, 0);
    expect(firstWait).toBe(500);
    // BullMQ moves the job to delayed and back: never before the wait, give or take a timer tick.
    expect(retried!.at - failed!.at).toBeGreaterThanOrEqual(firstWait - 20);
  });
});
