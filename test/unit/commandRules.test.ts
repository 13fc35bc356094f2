import { describe, expect, it } from 'vitest';
import { isFinal, patchAfterAck, stateAfterAck, undeliveredStates } from '../../server/commands/commandRules.ts';
import { commandStates, finalCommandStates, type CommandState } from '../../schemas/db.ts';
import { ackStates, type AckState } from '../../schemas/wire.ts';

// The full table, written out by hand: rows are the current state, columns the ack
// (received, in_progress, succeeded, failed, rejected, deferred); '-' means "no change" (null).
const cols: AckState[] = ['received', 'in_progress', 'succeeded', 'failed', 'rejected', 'deferred'];
const table: Record<CommandState, string> = {
  pending: /*     */ 'received    in_progress succeeded failed rejected deferred',
  queued: /*      */ 'received    in_progress succeeded failed rejected deferred',
  sent: /*        */ 'received    in_progress succeeded failed rejected deferred',
  received: /*    */ '-           in_progress succeeded failed rejected deferred',
  in_progress: /* */ '-           in_progress succeeded failed rejected deferred',
  deferred: /*    */ '-           in_progress succeeded failed rejected deferred',
  succeeded: /*   */ '-           -           -         -      -        -',
  failed: /*      */ '-           -           -         -      -        -',
  rejected: /*    */ '-           -           -         -      -        -',
  expired: /*     */ '-           -           -         -      -        -',
  cancelled: /*   */ '-           -           -         -      -        -',
};

describe('stateAfterAck', () => {
  it('the table covers every command state and every ack state', () => {
    expect(Object.keys(table).sort()).toEqual([...commandStates].sort());
    expect([...cols].sort()).toEqual([...ackStates].sort());
  });

  for (const current of commandStates) {
    it(`from ${current}`, () => {
      const expected = table[current].trim().split(/\s+/);
      expect(expected).toHaveLength(cols.length);
      const got = cols.map((ack) => stateAfterAck(current, ack) ?? '-');
      expect(got).toEqual(expected);
    });
  }

  it('a final state never changes, whatever arrives', () => {
    for (const s of finalCommandStates) for (const a of ackStates) expect(stateAfterAck(s, a), `${s} + ${a}`).toBeNull();
  });

  it('received only moves a command that the device had not yet confirmed', () => {
    const from = commandStates.filter((s) => stateAfterAck(s, 'received') === 'received');
    expect(from.sort()).toEqual(['pending', 'queued', 'sent']);
    expect([...undeliveredStates].sort()).toEqual(['pending', 'queued', 'sent']);
  });

  it('an ack never moves a command back to a server-side state', () => {
    const serverSide: CommandState[] = ['pending', 'queued', 'sent', 'expired', 'cancelled'];
    for (const s of commandStates) for (const a of ackStates) expect(serverSide).not.toContain(stateAfterAck(s, a));
  });

  it('applying the same ack twice is the same as applying it once', () => {
    for (const s of commandStates) {
      for (const a of ackStates) {
        const once = stateAfterAck(s, a) ?? s;
        const twice = stateAfterAck(once, a) ?? once;
        expect(twice, `${s} + ${a} + ${a}`).toBe(once);
      }
    }
  });
});

describe('isFinal / undeliveredStates', () => {
  it('isFinal is exactly the final states', () => {
    expect(commandStates.filter(isFinal).sort()).toEqual(['cancelled', 'expired', 'failed', 'rejected', 'succeeded']);
  });
  it('undelivered states are never final', () => {
    for (const s of undeliveredStates) expect(isFinal(s)).toBe(false);
  });
  it('an ack patches state, stage, rounded progress, error and result; a final one its finish time', () => {
    const at = new Date(1_700_000_000_000);
    expect(patchAfterAck('sent', { cmdId: 'c', state: 'in_progress', stage: 'downloading', progress: 41.6 }, () => at)).toEqual({
      state: 'in_progress',
      stage: 'downloading',
      progress: 42,
    });
    expect(patchAfterAck('in_progress', { cmdId: 'c', state: 'succeeded', progress: 90, result: { ok: true } }, () => at)).toEqual({
      state: 'succeeded',
      progress: 100,
      result: { ok: true },
      finishedAt: at,
    });
    expect(patchAfterAck('failed', { cmdId: 'c', state: 'succeeded' }, () => at)).toEqual({});
  });
});
