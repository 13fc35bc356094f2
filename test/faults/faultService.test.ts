// The fault service against both databases: batched writes, one open fault per device and code
// (also across two instances sharing a database), the API lifecycle, notifications after writes.
import { eq } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { devices, ROOT_ORG_ID, ROOT_ORG_PATH } from '../../schemas/db.ts';
import { faults } from '../../schemas/tables/faults.ts';
import { createAuditLog } from '../../server/audit/auditLog.ts';
import { defaultRules } from '../../server/faults/defaultRules.ts';
import { createFaultService } from '../../server/faults/faultService.ts';
import { createRuleEngine } from '../../server/faults/ruleEngine.ts';
import type { WebhookEvent, WebhookFault } from '../../server/faults/webhook.ts';
import { createTimelineWriter } from '../../server/devices/timelineWriter.ts';
import { createEventBus } from '../../server/events/eventBus.ts';
import type { Principal } from '../../server/http/types.ts';
import { createLogger } from '../../server/log.ts';
import { createMetrics } from '../../server/metrics.ts';
import type { Db } from '../../server/db/database.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const log = createLogger('silent');
const tina: Principal = { userId: 'usr_tina', name: 'tina', role: 'technician', orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH };
const paperOut = { ts: 1, seq: 1, printer: { status: 'paper_out' as const } };
const paperOk = { ts: 2, seq: 2, printer: { status: 'ok' as const } };

function instance(db: Db) {
  const sent: { event: WebhookEvent; fault: WebhookFault | null }[] = [];
  const bus = createEventBus();
  const live: string[] = [];
  bus.onAny((name) => live.push(name));
  const timeline = createTimelineWriter({ db, log, metrics: createMetrics() });
  const service = createFaultService({
    db,
    bus,
    timeline,
    audit: createAuditLog({ db, log }),
    notifier: { wants: (s) => s === 'critical' || s === 'warning', enqueue: async (items) => void sent.push(...items) },
    log,
  });
  const engine = createRuleEngine(defaultRules(), service.sink);
  return { service, engine, sent, live, timeline };
}

forEachDatabase('fault service', (getDb) => {
  beforeEach(async () => {
    await truncateAll(getDb());
    await getDb().insert(devices).values([
      { id: 'dev_a', serial: 'A', model: 'M' },
      { id: 'dev_b', serial: 'B', model: 'M' },
    ]);
  });

  it('opens in memory, writes in a batch, notifies only after the write', async () => {
    const { service, engine, sent, live } = instance(getDb());
    engine.health('dev_a', paperOut, 1000);
    engine.health('dev_a', paperOut, 1001);
    engine.health('dev_b', paperOut, 1002);
    expect(service.pending()).toBe(2);
    expect(sent).toEqual([]);
    expect(live.filter((n) => n === 'fault.opened')).toHaveLength(2);
    expect(await getDb().select().from(faults)).toHaveLength(0);
    await service.flush();
    const rows = await getDb().select().from(faults);
    expect(rows.map((r) => [r.deviceId, r.code, r.state, r.severityRank])).toEqual(
      expect.arrayContaining([
        ['dev_a', 'paper_out', 'open', 1],
        ['dev_b', 'paper_out', 'open', 1],
      ]),
    );
    expect(sent.map((s) => `${s.event} ${s.fault?.deviceId}`).sort()).toEqual(['fault.opened dev_a', 'fault.opened dev_b']);
  });

  it('opened and cleared before a flush: one row, resolved automatically', async () => {
    const { service, engine, sent } = instance(getDb());
    engine.health('dev_a', paperOut, 1000);
    engine.health('dev_a', paperOk, 2000);
    await service.flush();
    const [row] = await getDb().select().from(faults);
    expect(row).toMatchObject({ state: 'resolved', resolution: 'auto' });
    expect(row!.resolvedAt!.getTime()).toBe(2000);
    expect(sent.map((s) => s.event)).toEqual(['fault.opened', 'fault.resolved']);
  });

  it('the database keeps one open fault per device and code, even across two instances', async () => {
    const one = instance(getDb());
    const two = instance(getDb());
    one.engine.health('dev_a', paperOut, 1000);
    await one.service.flush();
    two.engine.health('dev_a', paperOut, 1500); // the second instance did not know
    await two.service.flush();
    const open = await getDb().select().from(faults).where(eq(faults.state, 'open'));
    expect(open).toHaveLength(1);
    // The second instance adopted the stored fault and did not notify a duplicate.
    expect(two.service.openFaults.find('dev_a', 'paper_out')?.id).toBe(open[0]!.id);
    expect(two.sent).toEqual([]);
    // A clear seen by the second instance resolves the one stored fault.
    two.engine.health('dev_a', paperOk, 2000);
    await two.service.flush();
    expect((await getDb().select().from(faults))[0]).toMatchObject({ state: 'resolved', resolution: 'auto' });
    // ...and the first catches up when it reconciles.
    await one.service.reconcile();
    expect(one.service.openFaults.find('dev_a', 'paper_out')).toBeUndefined();
  });

  it('manual resolve re-opens a new fault if the condition is still there; acknowledge survives a flush', async () => {
    const { service, engine } = instance(getDb());
    engine.health('dev_a', { ts: 1, seq: 1, tamper: true }, 1000);
    await service.flush();
    const [f] = await getDb().select().from(faults);
    await service.acknowledge(f!.id, tina);
    engine.health('dev_a', { ts: 2, seq: 2, tamper: true }, 2000); // still open: nothing new
    await service.flush();
    expect(await getDb().select().from(faults)).toHaveLength(1);
    expect((await service.byId(f!.id)).state).toBe('acknowledged');
    await service.resolve(f!.id, tina, 'checked');
    engine.health('dev_a', { ts: 3, seq: 3, tamper: true }, 3000);
    await service.flush();
    const rows = await getDb().select().from(faults);
    expect(rows.map((r) => r.state).sort()).toEqual(['open', 'resolved']);
    await expect(service.acknowledge(f!.id, tina)).rejects.toMatchObject({ status: 409, code: 'fault_resolved' });
    await expect(service.acknowledge('flt_nope', tina)).rejects.toMatchObject({ status: 404 });
  });
});
