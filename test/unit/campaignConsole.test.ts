// The console campaign pages' decisions (client/console/views/campaigns/campaignRules.ts), without
// a browser: the controls each state allows, phase sizes as the engine draws them, counts in
// words, and the create body a form makes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { campaignSpec } from '../../schemas/campaigns.ts';
import { campaignStates } from '../../schemas/tables/campaigns.ts';
import { drawPhases } from '../../server/campaigns/campaignRules.ts';
import {
  controlsFor,
  createBody,
  phaseTally,
  planPhases,
  progressText,
  targetOf,
  targetProblem,
  type CampaignDraft,
} from '../../client/console/views/campaigns/campaignRules.ts';

const draft = (patch: Partial<CampaignDraft> = {}): CampaignDraft => ({
  name: '  pos-os 2.1.0  ',
  targetKind: 'group',
  groupId: 'grp_1',
  filterId: 'flt_1',
  query: ' model = "PAX-A920" ',
  deviceIds: '',
  phases: [
    { name: ' canary ', percent: '10' },
    { name: 'rest', percent: '90' },
  ],
  successThreshold: '95',
  errorThreshold: '5',
  startAt: '',
  ...patch,
});

describe('campaign controls by state', () => {
  it('offers what the engine accepts from each state, nothing once finished', () => {
    expect(Object.fromEntries(campaignStates.map((s) => [s, controlsFor(s)]))).toEqual({
      draft: ['start', 'cancel'],
      running: ['pause', 'cancel'],
      paused: ['resume', 'cancel'],
      succeeded: [],
      failed: [],
      cancelled: [],
    });
  });
});

describe('phase sizes of a preview', () => {
  it('sizes phases by rounding each cumulative share, the last taking the rest', () => {
    expect(
      planPhases(4, [
        { name: 'a', percent: 50 },
        { name: 'b', percent: 50 },
      ]).map((p) => p.size),
    ).toEqual([2, 2]);
    expect(
      planPhases(4, [
        { name: 'a', percent: 1 },
        { name: 'b', percent: 99 },
      ]).map((p) => p.size),
    ).toEqual([0, 4]);
    expect(
      planPhases(1000, [
        { name: 'canary', percent: 1 },
        { name: 'early', percent: 9 },
        { name: 'rest', percent: 90 },
      ]).map((p) => p.size),
    ).toEqual([10, 90, 900]);
    expect(planPhases(0, [{ name: 'all', percent: 100 }])).toEqual([{ name: 'all', percent: 100, size: 0 }]);
    expect(
      planPhases(7, [
        { name: 'a', percent: 33.3 },
        { name: 'b', percent: 33.3 },
        { name: 'c', percent: 33.4 },
      ]).map((p) => p.size),
    ).toEqual([2, 3, 2]);
  });

  it('gives every phase the size the engine draws into it at start', () => {
    const percents = fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }).map((w) => {
      const sum = w.reduce((a, b) => a + b, 0);
      const shares = w.map((x) => (x * 100) / sum);
      return [...shares.slice(0, -1), 100 - shares.slice(0, -1).reduce((a, b) => a + b, 0)];
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), percents, fc.string({ maxLength: 8 }), (n, pcts, seed) => {
        const ids = Array.from({ length: n }, (_, i) => `dev_${i}`);
        const drawn = pcts.map(() => 0);
        for (const { phase } of drawPhases(ids, seed, pcts).values()) drawn[phase]! += 1;
        const planned = planPhases(
          n,
          pcts.map((percent, i) => ({ name: `p${i}`, percent })),
        ).map((p) => p.size);
        expect(planned).toEqual(drawn);
        expect(planned.reduce((a, b) => a + b, 0)).toBe(n);
      }),
      { numRuns: 200 },
    );
  });
});

describe('counts in words', () => {
  it('reads a phase as the engine tallies it, skipped and cancelled apart', () => {
    const t = phaseTally({ succeeded: 3, failed: 1, timed_out: 1, downloading: 2, sent: 1, pending: 4, skipped: 1, cancelled: 1 });
    expect(t).toEqual({ total: 12, succeeded: 3, errors: 2, inFlight: 3, pending: 4, other: 2 });
    expect(progressText(t)).toBe('3 of 12 succeeded, 3 in progress, 2 failed, 4 waiting, 2 skipped or cancelled');
    expect(progressText(phaseTally({}))).toBe('0 of 0 succeeded, 0 in progress, 0 failed, 0 waiting');
  });
});

describe('the create body of a form', () => {
  it('makes each target form from its own field', () => {
    expect(targetOf(draft())).toEqual({ groupId: 'grp_1' });
    expect(targetOf(draft({ targetKind: 'filter' }))).toEqual({ filterId: 'flt_1' });
    expect(targetOf(draft({ targetKind: 'query' }))).toEqual({ query: 'model = "PAX-A920"' });
    expect(targetOf(draft({ targetKind: 'devices', deviceIds: 'dev_a, dev_b\ndev_a\n\n dev_c ' }))).toEqual({
      deviceIds: ['dev_a', 'dev_b', 'dev_c'],
    });
  });

  it('says what the target lacks, for each form of it', () => {
    expect(targetProblem(draft())).toBeNull();
    expect(targetProblem(draft({ groupId: '' }))).toBe('target: pick a group');
    expect(targetProblem(draft({ targetKind: 'filter', filterId: '' }))).toBe('target: pick a saved filter');
    expect(targetProblem(draft({ targetKind: 'query', query: '   ' }))).toBe('target: write a fleet query');
    expect(targetProblem(draft({ targetKind: 'devices', deviceIds: ' ,\n ' }))).toBe('target: list at least one device id');
    expect(targetProblem(draft({ targetKind: 'devices', deviceIds: 'dev_a' }))).toBeNull();
  });

  it('reads numbers and names as the server takes them, and a local start time as an instant', () => {
    const body = createBody(draft({ startAt: '2030-01-02T03:04' }));
    expect(body).toEqual({
      name: 'pos-os 2.1.0',
      target: { groupId: 'grp_1' },
      phases: [
        { name: 'canary', percent: 10 },
        { name: 'rest', percent: 90 },
      ],
      successThreshold: 95,
      errorThreshold: 5,
      startAt: new Date('2030-01-02T03:04').toISOString(),
    });
    const { name: _name, ...spec } = body;
    expect(campaignSpec.safeParse(spec).success).toBe(true);
    expect(createBody(draft())).not.toHaveProperty('startAt');
    expect(createBody(draft({ startAt: 'not a time' }))).not.toHaveProperty('startAt');
  });

  it('leaves a bad form for the server schema to refuse, not silently fixed', () => {
    const { name: _name, ...spec } = createBody(
      draft({
        phases: [
          { name: 'a', percent: '60' },
          { name: 'b', percent: '30' },
        ],
      }),
    );
    const parsed = campaignSpec.safeParse(spec);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('phase percents must add up to 100');
  });
});
