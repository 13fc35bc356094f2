import { describe, expect, it } from 'vitest';
import { createCommandTracker, type CommandPatch, type TrackedCommand } from '../../server/commands/commandTracker.ts';
import { commandStates, finalCommandStates, type CommandState } from '../../schemas/db.ts';
import { seededRandom } from '../../agent/random.ts';

const cmd = (id: string, deviceId: string, batchId: string | null, state: CommandState = 'pending'): TrackedCommand => ({
  id,
  deviceId,
  batchId,
  type: 'reboot',
  payload: {},
  state,
  stage: null,
  progress: null,
  error: null,
  result: null,
  attempts: 0,
  issuedAt: new Date(0),
  expiresAt: null,
  sentAt: null,
  finishedAt: null,
  createdBy: null,
  updatedAt: new Date(0),
});

const nonZero = (counts: Record<string, number> | undefined) =>
  Object.fromEntries(Object.entries(counts ?? {}).filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b)));
const final = (s: CommandState) => finalCommandStates.includes(s);

describe('command tracker', () => {
  it('tracks open commands by id and by device', () => {
    const t = createCommandTracker();
    t.add(cmd('c1', 'd1', null));
    t.add(cmd('c2', 'd1', null, 'sent'));
    t.add(cmd('c3', 'd2', null));
    expect(t.size()).toBe(3);
    expect(t.get('c2')!.state).toBe('sent');
    expect(t.openFor('d1').map((c) => c.id).sort()).toEqual(['c1', 'c2']);
    expect(t.openFor('d2').map((c) => c.id)).toEqual(['c3']);
    expect(t.openFor('nobody')).toEqual([]);
    expect([...t.open()].map((c) => c.id).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('update applies the patch, stamps updatedAt, queues the change and returns the row', () => {
    const t = createCommandTracker();
    t.add(cmd('c1', 'd1', null));
    const before = Date.now();
    const row = t.update('c1', { state: 'in_progress', stage: 'download', progress: 40 });
    expect(row).toMatchObject({ id: 'c1', state: 'in_progress', stage: 'download', progress: 40 });
    expect(row!.updatedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(t.get('c1')).toBe(row);
    expect(t.unwritten('c1')).toBe(row);
    expect(t.update('missing', { state: 'failed' })).toBeUndefined();
    expect(t.unwritten('missing')).toBeUndefined();
  });

  it('a finished command leaves open/openFor/get at once but stays unwritten until takeChanges', () => {
    const t = createCommandTracker();
    t.add(cmd('c1', 'd1', null, 'in_progress'));
    t.add(cmd('c2', 'd1', null));
    const done = t.update('c1', { state: 'succeeded', finishedAt: new Date(5) });
    expect(done!.state).toBe('succeeded');
    expect(t.get('c1')).toBeUndefined();
    expect(t.openFor('d1').map((c) => c.id)).toEqual(['c2']);
    expect([...t.open()].map((c) => c.id)).toEqual(['c2']);
    expect(t.size()).toBe(1);
    expect(t.unwritten('c1')).toMatchObject({ id: 'c1', state: 'succeeded' });
    // No further updates to a finished command.
    expect(t.update('c1', { state: 'failed' })).toBeUndefined();
    expect(t.unwritten('c1')!.state).toBe('succeeded');

    const changes = t.takeChanges();
    expect([...changes.keys()]).toEqual(['c1']);
    expect(t.unwritten('c1')).toBeUndefined();
    expect(t.takeChanges().size).toBe(0);
  });

  it('the last device command finishing leaves openFor empty', () => {
    const t = createCommandTracker();
    t.add(cmd('c1', 'd1', null));
    t.update('c1', { state: 'cancelled' });
    expect(t.openFor('d1')).toEqual([]);
    t.add(cmd('c2', 'd1', null));
    expect(t.openFor('d1').map((c) => c.id)).toEqual(['c2']);
  });

  it('takeChanges holds the latest version of each changed command once', () => {
    const t = createCommandTracker();
    t.add(cmd('c1', 'd1', null));
    t.add(cmd('c2', 'd1', null));
    t.update('c1', { state: 'sent' });
    t.update('c1', { state: 'received' });
    t.update('c2', { attempts: 1 });
    const changes = t.takeChanges();
    expect(changes.size).toBe(2);
    expect(changes.get('c1')!.state).toBe('received');
    expect(changes.get('c2')!.attempts).toBe(1);
    t.update('c1', { state: 'in_progress' });
    expect(changes.size).toBe(2);
    expect([...t.takeChanges().keys()]).toEqual(['c1']);
  });

  it('counts a batch by state through transitions; other batches and loose commands do not count', () => {
    const t = createCommandTracker();
    expect(t.batchCounts('b1')).toBeUndefined();
    t.startBatch('b1', 3);
    // Pending from the start, before its commands are added chunk by chunk; adding them does not count twice.
    expect(t.batchCounts('b1')).toEqual({ pending: 3 });
    t.add(cmd('c1', 'd1', 'b1'));
    t.add(cmd('c2', 'd2', 'b1'));
    t.add(cmd('c3', 'd3', 'b1'));
    t.add(cmd('x1', 'd1', 'other'));
    t.add(cmd('x2', 'd1', null));
    expect(nonZero(t.batchCounts('b1'))).toEqual({ pending: 3 });
    t.update('c1', { state: 'sent' });
    t.update('c1', { state: 'sent', attempts: 2 }); // same state: no count change
    t.update('c2', { progress: 10 }); // no state: no count change
    t.update('c3', { state: 'failed' });
    t.update('x1', { state: 'succeeded' });
    t.update('x2', { state: 'succeeded' });
    expect(nonZero(t.batchCounts('b1'))).toEqual({ failed: 1, pending: 1, sent: 1 });
    expect(t.batchCounts('other')).toBeUndefined();
  });

  it('startBatch on a known batch keeps its counts', () => {
    const t = createCommandTracker();
    t.startBatch('b1', 1);
    t.add(cmd('c1', 'd1', 'b1'));
    t.startBatch('b1', 1);
    expect(nonZero(t.batchCounts('b1'))).toEqual({ pending: 1 });
  });

  it('keeps at most 1000 batches, dropping the oldest', () => {
    const t = createCommandTracker();
    for (let i = 0; i < 1001; i++) t.startBatch(`b${i}`, 1);
    expect(t.batchCounts('b0')).toBeUndefined();
    expect(t.batchCounts('b1')).toEqual({ pending: 1 });
    expect(t.batchCounts('b1000')).toEqual({ pending: 1 });
  });

  it('batch counts equal the true counts by state through random transitions', () => {
    for (const seed of [3, 17, 99]) {
      const rnd = seededRandom(seed);
      const t = createCommandTracker();
      const truth = new Map<string, { batchId: string | null; deviceId: string; state: CommandState }>();
      t.startBatch('b1', 60);
      t.startBatch('b2', 40);
      let n = 0;
      const addOne = (batchId: string | null) => {
        const id = `c${n++}`;
        const deviceId = `d${Math.floor(rnd() * 10)}`;
        t.add(cmd(id, deviceId, batchId));
        truth.set(id, { batchId, deviceId, state: 'pending' });
      };
      for (let i = 0; i < 60; i++) addOne('b1');
      for (let i = 0; i < 40; i++) addOne('b2');
      for (let i = 0; i < 20; i++) addOne(null);
      const allIds = [...truth.keys()];

      for (let step = 0; step < 3000; step++) {
        const id = allIds[Math.floor(rnd() * allIds.length)]!;
        const known = truth.get(id)!;
        // Mostly forward through open states, sometimes finishing.
        const to = rnd() < 0.15 ? commandStates[Math.floor(rnd() * commandStates.length)]! : (['queued', 'sent', 'received', 'in_progress', 'deferred'] as const)[Math.floor(rnd() * 5)]!;
        const patch: CommandPatch = rnd() < 0.1 ? { progress: Math.floor(rnd() * 100) } : { state: to };
        const row = t.update(id, patch);
        if (final(known.state)) {
          if (row !== undefined) throw new Error(`seed ${seed} step ${step}: finished ${id} was updated`);
        } else if (patch.state !== undefined) known.state = patch.state;

        if (step % 50 === 0 || step === 2999) {
          for (const b of ['b1', 'b2']) {
            const expected: Record<string, number> = {};
            for (const c of truth.values()) if (c.batchId === b) expected[c.state] = (expected[c.state] ?? 0) + 1;
            const counts = t.batchCounts(b)!;
            expect(nonZero(counts), `seed ${seed} step ${step} ${b}`).toEqual(nonZero(expected));
            for (const v of Object.values(counts)) expect(v).toBeGreaterThanOrEqual(0);
          }
          const openIds = [...truth].filter(([, c]) => !final(c.state)).map(([id]) => id).sort();
          expect([...t.open()].map((c) => c.id).sort()).toEqual(openIds);
          expect(t.size()).toBe(openIds.length);
          for (let d = 0; d < 10; d++) {
            const want = [...truth].filter(([, c]) => c.deviceId === `d${d}` && !final(c.state)).map(([id]) => id).sort();
            expect(t.openFor(`d${d}`).map((c) => c.id).sort()).toEqual(want);
          }
          t.takeChanges();
        }
      }
    }
  });
});
