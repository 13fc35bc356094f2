// Command delivery's BullMQ job on the real Redis: a publish that fails is retried after the wait
// of retryStrategies.commandDelivery (the worker's custom backoff), and a command already sent
// is not sent again; a batch's direct publish (deliverNow) hands the queue only what failed. The terminal side is a recorder of publish calls, because what is under
// test is the queue's retry, not MQTT (test/core/commands.test.ts covers the real broker).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { retryDelay, retryStrategies } from '../../schemas/retry.ts';
import type { CommandMessage } from '../../schemas/wire.ts';
import { createCommandDelivery } from '../../server/commands/commandDelivery.ts';
import { pendingCommandRows } from '../../server/commands/commandService.ts';
import { createCommandTracker } from '../../server/commands/commandTracker.ts';
import { createJobQueues, type JobQueues } from '../../server/jobs/jobQueues.ts';
import { createLogger } from '../../server/log.ts';
import { createMetrics } from '../../server/metrics.ts';
import { eventually } from '../helpers/eventually.ts';

/** Queues of their own on the real Redis (a prefix per test). */
const newQueues = () =>
  createJobQueues({
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `test-delivery-${randomBytes(4).toString('hex')}`,
    log: createLogger('silent'),
    metrics: createMetrics(),
  });

describe('command delivery job', () => {
  let queues: JobQueues | undefined;
  afterEach(async () => {
    await queues?.close();
  });

  // A batch's commands are published at once (deliverNow), not through a job: only what fails to
  // publish goes to the queue, and its retry sends that one alone.
  it('deliverNow publishes without a job and queues only what failed, which the retry sends', async () => {
    queues = newQueues();
    const tracker = createCommandTracker();
    const publishes: { id: string; ok: boolean }[] = [];
    const stored = pendingCommandRows(['dev_1', 'dev_2', 'dev_3'], { type: 'reboot', createdBy: null }, { batchId: null, defaultTtlS: 60, now: new Date() });
    const refused = new Set([stored[1]!.id]);
    const delivery = createCommandDelivery({
      queues,
      tracker,
      log: createLogger('silent'),
      broker: {
        isCommandReady: () => true,
        async sendCommand(_deviceId: string, msg: CommandMessage) {
          const ok = !refused.delete(msg.id);
          publishes.push({ id: msg.id, ok });
          if (!ok) throw new Error('client gone');
        },
      },
      transition: (id, patch) => tracker.update(id, patch),
    });
    for (const c of stored) tracker.add(c);
    delivery.start();
    await delivery.deliverNow(stored.map((c) => c.id));
    // Published in the call itself: no job was needed for the two that went out.
    expect(publishes.map((p) => [p.id, p.ok])).toEqual(stored.map((c, i) => [c.id, i !== 1]));
    expect([stored[0], stored[2]].map((c) => tracker.get(c!.id)?.state)).toEqual(['sent', 'sent']);
    await eventually(() => tracker.get(stored[1]!.id)?.state === 'sent', { stepMs: 20, what: 'the refused one sent by the queue' });
    for (const c of stored) expect(publishes.filter((p) => p.id === c.id && p.ok)).toHaveLength(1);
  });

  it('retries a failed publish after the table wait and sends each command once', async () => {
    queues = newQueues();
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
          // The first publish of b fails, as a broker whose client went away would.
          const ok = !(msg.id === b.id && refuseNext);
          if (!ok) refuseNext = false;
          publishes.push({ id: msg.id, at: Date.now(), ok });
          if (!ok) throw new Error('client gone');
        },
      },
      transition: (id, patch) => tracker.update(id, patch),
    });
    const stored = pendingCommandRows(['dev_1', 'dev_2'], { type: 'reboot', createdBy: null }, { batchId: null, defaultTtlS: 60, now: new Date() });
    const a = stored[0]!;
    const b = stored[1]!;
    tracker.add(a);
    tracker.add(b);
    delivery.start();
    await delivery.enqueueSoon([a.id, b.id]);

    await eventually(() => tracker.get(b.id)?.state === 'sent', { stepMs: 20, what: 'b sent after a retry' });
    expect(tracker.get(a.id)?.state).toBe('sent');
    expect(publishes.filter((p) => p.id === a.id)).toHaveLength(1);
    const [failed, retried] = publishes.filter((p) => p.id === b.id);
    expect(failed?.ok).toBe(false);
    expect(retried?.ok).toBe(true);
    const firstWait = retryDelay(retryStrategies.commandDelivery, 0);
    expect(firstWait).toBe(500);
    // BullMQ moves the job to delayed and back: never before the wait, give or take a timer tick.
    expect(retried!.at - failed!.at).toBeGreaterThanOrEqual(firstWait - 20);
  });
});
