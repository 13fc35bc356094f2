// Write-behind buffers against both databases: the timeline and diagnostics rows of a fleet-wide
// command go out as one JSON parameter per chunk (more rows than a statement may bind), keep their
// order, and a row of a device deleted meanwhile costs only itself.
import { asc, eq } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { devices, timeline, type CommandState } from '../../schemas/db.ts';
import { deviceDiagnostics } from '../../schemas/tables/faults.ts';
import { createTimelineWriter } from '../../server/devices/timelineWriter.ts';
import { createEventBus } from '../../server/events/eventBus.ts';
import { createDiagnostics } from '../../server/faults/diagnostics.ts';
import { createLogger } from '../../server/log.ts';
import { createMetrics } from '../../server/metrics.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const log = createLogger('silent');
const FLEET = 1500;
const ids = Array.from({ length: FLEET }, (_, i) => `dev_${String(i).padStart(5, '0')}`);

const diagUpdate = (deviceId: string, state: CommandState, result: Record<string, unknown> | null = null) => ({
  id: `cmd_${deviceId}`,
  deviceId,
  type: 'diag.run',
  state,
  batchId: 'bat_1',
  stage: null,
  progress: null,
  error: null,
  result,
});

forEachDatabase('write-behind buffers', (getDb) => {
  beforeEach(async () => {
    await truncateAll(getDb());
    await getDb().insert(devices).values(ids.map((id) => ({ id, serial: id, model: 'M' })));
  });

  it('writes thousands of timeline entries in the order they were added, with their data', async () => {
    const metrics = createMetrics();
    const writer = createTimelineWriter({ db: getDb(), log, metrics });
    for (const [i, deviceId] of ids.entries()) {
      writer.add({ deviceId, kind: 'command', summary: `diag.run issued ${i}`, data: { n: i, quote: 'a "b" \\ c', nested: { ok: true } }, ts: new Date(1_700_000_000_000 + i) });
      writer.add({ deviceId: ids[0]!, kind: 'ack', summary: `second ${i}` });
    }
    await writer.flush();
    const rows = await getDb().select().from(timeline).orderBy(asc(timeline.id));
    expect(rows).toHaveLength(FLEET * 2);
    expect(rows.map((r) => r.summary)).toEqual(ids.flatMap((_, i) => [`diag.run issued ${i}`, `second ${i}`]));
    expect(rows[2]).toMatchObject({ deviceId: ids[1], kind: 'command', data: { n: 1, quote: 'a "b" \\ c', nested: { ok: true } } });
    expect(rows[2]!.ts.getTime()).toBe(1_700_000_000_001);
    expect(rows[1]!.data).toEqual({});
  });

  it('a timeline entry of a deleted device is dropped alone', async () => {
    const metrics = createMetrics();
    const writer = createTimelineWriter({ db: getDb(), log, metrics });
    writer.add({ deviceId: ids[0]!, kind: 'event', summary: 'before' });
    writer.add({ deviceId: 'dev_gone', kind: 'event', summary: 'lost' });
    writer.add({ deviceId: ids[1]!, kind: 'event', summary: 'after' });
    await writer.flush();
    const rows = await getDb().select().from(timeline).orderBy(asc(timeline.id));
    expect(rows.map((r) => r.summary)).toEqual(['before', 'after']);
    expect((await metrics.registry.getSingleMetricAsString('posfleet_messages_dropped_total')).includes('timeline_write_failed')).toBe(true);
  });

  it('upserts a fleet of diagnostics results at once and keeps the first result when a later update has none', async () => {
    const bus = createEventBus();
    const timelineWriter = createTimelineWriter({ db: getDb(), log, metrics: createMetrics() });
    const diagnostics = createDiagnostics({ db: getDb(), commands: { create: () => Promise.reject(new Error('not used here')) }, bus, timeline: timelineWriter, log, metrics: createMetrics() });
    diagnostics.start();
    for (const id of ids) bus.emit('command.updated', diagUpdate(id, 'sent'));
    await diagnostics.flush();
    expect(await getDb().select().from(deviceDiagnostics)).toHaveLength(FLEET);
    for (const id of ids) bus.emit('command.updated', diagUpdate(id, 'succeeded', { printer: 'pass', storage: id === ids[7] ? 'fail' : 'pass' }));
    await diagnostics.flush();
    bus.emit('command.updated', diagUpdate(ids[3]!, 'succeeded', null));
    await diagnostics.flush();
    const rows = await getDb().select().from(deviceDiagnostics);
    expect(rows.filter((r) => r.state === 'succeeded' && r.finishedAt)).toHaveLength(FLEET);
    const [third] = rows.filter((r) => r.deviceId === ids[3]);
    expect(third!.result).toEqual({ printer: 'pass', storage: 'pass' });
    const [failed] = await getDb().select().from(deviceDiagnostics).where(eq(deviceDiagnostics.deviceId, ids[7]!));
    expect(failed!.result).toEqual({ printer: 'pass', storage: 'fail' });
  });

  it('drops the diagnostics of a deleted device alone and writes the rest', async () => {
    const bus = createEventBus();
    const diagnostics = createDiagnostics({
      db: getDb(),
      commands: { create: () => Promise.reject(new Error('not used here')) },
      bus,
      timeline: createTimelineWriter({ db: getDb(), log, metrics: createMetrics() }),
      log,
      metrics: createMetrics(),
    });
    diagnostics.start();
    bus.emit('command.updated', diagUpdate(ids[0]!, 'sent'));
    bus.emit('command.updated', diagUpdate('dev_gone', 'sent'));
    bus.emit('command.updated', diagUpdate(ids[1]!, 'sent'));
    await diagnostics.flush();
    const rows = await getDb().select().from(deviceDiagnostics);
    expect(rows.map((r) => r.deviceId).sort()).toEqual([ids[0], ids[1]]);
    await diagnostics.flush(); // nothing left pending to retry forever
    expect(await getDb().select().from(deviceDiagnostics)).toHaveLength(2);
  });
});
