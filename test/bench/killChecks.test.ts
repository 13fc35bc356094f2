// The exact counts of the chaos kill cases: each check must fail on the loss or duplicate it is
// there to catch, and hold on a clean run.
import { describe, expect, it } from 'vitest';
import { installCounts, memberChecks, tallyCommands, type ServerCommand } from '../../scripts/bench/chaos/killChecks.ts';

const cmd = (id: string, deviceId: string, state: string, type = 'diag.run'): ServerCommand => ({ id, deviceId, type, state });

describe('chaos kill checks', () => {
  it('counts acked, explained and lost commands, and terminals that got another number than the server created', () => {
    const server = new Map([
      ['d1', [cmd('c1', 'd1', 'succeeded'), cmd('c2', 'd1', 'expired'), cmd('t1', 'd1', 'received', 'trust.set')]],
      ['d2', [cmd('c3', 'd2', 'received')]],
    ]);
    const t = tallyCommands('diag.run', ['d1', 'd2'], server, { d1: { 'diag.run': 2 }, d2: { 'diag.run': 2 } });
    expect([t.accepted, t.acked, t.explained, t.lost]).toEqual([3, 1, 1, 1]);
    expect(t.failures).toHaveLength(2);
    expect(t.failures[0]).toContain('c3 (d2) received');
    expect(t.failures[1]).toContain('d2: server 1, terminal 2');
    const clean = tallyCommands('diag.run', ['d1'], new Map([['d1', [cmd('c1', 'd1', 'succeeded')]]]), { d1: { 'diag.run': 1 } });
    expect(clean.failures).toEqual([]);
  });

  it('names terminals that installed twice or never', () => {
    const r = installCounts(['a', 'b', 'c'], { a: 1, b: 2 }, 1);
    expect(r.duplicates).toBe(1);
    expect(r.failures).toEqual(['1 terminals installed more than 1× (b)', '1 terminals installed fewer than 1× (c)']);
    expect(installCounts(['a'], { a: 1 }, 1)).toEqual({ duplicates: 0, failures: [] });
  });

  it('wants every member succeeded, on the version, with attempts = commands its terminal received', () => {
    const member = (deviceId: string, state: string, attempt: number, reportedVersion: string | null = '2.0.0') => ({
      deviceId,
      state,
      attempt,
      reportedVersion,
    });
    const received: Record<string, number> = { a: 1, b: 1 };
    expect(memberChecks(['a', 'b'], [member('a', 'succeeded', 1), member('b', 'succeeded', 1)], (d) => received[d] ?? 0, '2.0.0')).toEqual(
      [],
    );
    const bad = memberChecks(
      ['a', 'b'],
      [member('a', 'succeeded', 2), member('b', 'failed', 1, '1.0.0')],
      (d) => received[d] ?? 0,
      '2.0.0',
    );
    expect(bad).toHaveLength(3);
    expect(bad.join('\n')).toMatch(/not all succeeded[\s\S]*another version[\s\S]*a: attempt 2, received 1/);
  });
});
