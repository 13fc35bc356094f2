import { describe, expect, it } from 'vitest';
import { createAdmissionGate, type AdmissionLimits, type AdmissionRefusal } from '../../server/broker/connectAdmission.ts';

/** Each step: admit at a time (what the gate answers), or settle one admitted connection. */
type Step = ['admit', atMs: number, expected: AdmissionRefusal | null] | ['settle'];

function play(limits: AdmissionLimits, steps: Step[]): (AdmissionRefusal | null | 'settled')[] {
  const gate = createAdmissionGate(limits, 0);
  return steps.map((s) => {
    if (s[0] === 'settle') {
      gate.settle();
      return 'settled';
    }
    return gate.admit(s[1]);
  });
}

describe('connect admission gate', () => {
  it.each<[string, AdmissionLimits, Step[]]>([
    [
      'admits `burst` connections at one instant, then refuses for rate',
      { maxPending: 100, perSecond: 10, burst: 3 },
      [
        ['admit', 0, null],
        ['admit', 0, null],
        ['admit', 0, null],
        ['admit', 0, 'rate'],
        ['admit', 50, 'rate'],
        ['admit', 100, null],
        ['admit', 100, 'rate'],
      ],
    ],
    [
      // The slot is what is limited: settled connections free theirs, the rate stays generous.
      'refuses beyond maxPending until one settles',
      { maxPending: 2, perSecond: 1000, burst: 1000 },
      [
        ['admit', 0, null],
        ['admit', 0, null],
        ['admit', 0, 'pending'],
        ['settle'],
        ['admit', 0, null],
        ['admit', 0, 'pending'],
        ['settle'],
        ['settle'],
        ['admit', 0, null],
        ['admit', 0, null],
      ],
    ],
    [
      // A refusal for concurrency leaves the token: once a slot frees, the next one gets in at once.
      'a connection refused for pending spends no token',
      { maxPending: 1, perSecond: 1, burst: 2 },
      [
        ['admit', 0, null],
        ['admit', 0, 'pending'],
        ['admit', 0, 'pending'],
        ['settle'],
        ['admit', 0, null],
        ['settle'],
        ['admit', 0, 'rate'],
        ['admit', 1000, null],
      ],
    ],
  ])('%s', (_name, limits, steps) => {
    const expected = steps.map((s) => (s[0] === 'settle' ? 'settled' : s[2]));
    expect(play(limits, steps)).toEqual(expected);
  });

  it('never admits more than the rate allows over a long storm, and no more than maxPending at once', () => {
    const limits = { maxPending: 50, perSecond: 200, burst: 200 };
    const gate = createAdmissionGate(limits, 0);
    let admitted = 0;
    let maxPending = 0;
    // A client set hammering every millisecond for 10 s; each admitted one settles 20 ms later.
    const settleAt: number[] = [];
    for (let ms = 0; ms < 10_000; ms++) {
      while (settleAt.length && settleAt[0]! <= ms) {
        settleAt.shift();
        gate.settle();
      }
      for (let i = 0; i < 5; i++) {
        if (gate.admit(ms) === null) {
          admitted++;
          settleAt.push(ms + 20);
        }
      }
      maxPending = Math.max(maxPending, gate.pending);
    }
    expect(admitted).toBeLessThanOrEqual(limits.burst + 10 * limits.perSecond);
    // The budget is used, not wasted: within one token of it.
    expect(admitted).toBeGreaterThanOrEqual(limits.burst + 10 * limits.perSecond - 1);
    expect(maxPending).toBeLessThanOrEqual(limits.maxPending);
  });

  it('settling more often than admitted does not open extra slots', () => {
    const gate = createAdmissionGate({ maxPending: 1, perSecond: 100, burst: 100 }, 0);
    gate.settle();
    gate.settle();
    expect(gate.admit(0)).toBeNull();
    expect(gate.admit(0)).toBe('pending');
  });
});
