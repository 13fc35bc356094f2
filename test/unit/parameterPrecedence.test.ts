// Parameter precedence (server/parameters/precedence.ts) and value validation (schemas/parameters.ts)
// as properties: whatever values the tiers set, the highest tier that sets a key wins; taking that
// tier's value away falls back to the next one down; a value that does not fit its field is never used.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parameterField, parameterTemplateInput, parametersDigest, valueIssues, type ParameterField } from '../../schemas/parameters.ts';
import { checkParameters } from '../../agent/parameters/terminalParameters.ts';
import { desiredParameters, driftKeys, type Assignment, type TerminalFacts } from '../../server/parameters/precedence.ts';

const fields: ParameterField[] = [
  { key: 'host', type: 'host', required: true, default: 'acq.example.com:443' },
  { key: 'currency', type: 'enum', required: true, values: ['EUR', 'USD', 'GBP'], default: 'EUR' },
  { key: 'tips', type: 'boolean', required: false, default: false },
  { key: 'timeoutS', type: 'integer', required: false, min: 5, max: 120, default: 30 },
  { key: 'header', type: 'string', required: false, max: 40 },
];
const template = { id: 'ptpl_test', version: 1, fields };
const facts: TerminalFacts = { deviceId: 'dev_1', model: 'PAX-A920', merchantId: 'mer_1', orgPath: ['org_root', 'org_a', 'org_b'], groupIds: ['grp_1', 'grp_2'] };

/** Every tier/target that reaches `facts`, lowest precedence first. */
const ladder: Array<Pick<Assignment, 'tier' | 'targetId'>> = [
  { tier: 'model', targetId: 'PAX-A920' },
  { tier: 'organisation', targetId: 'org_root' },
  { tier: 'organisation', targetId: 'org_a' },
  { tier: 'organisation', targetId: 'org_b' },
  { tier: 'group', targetId: 'grp_1' },
  { tier: 'group', targetId: 'grp_2' },
  { tier: 'merchant', targetId: 'mer_1' },
  { tier: 'terminal', targetId: 'dev_1' },
];
/** Targets that do not reach `facts`: never a source. */
const strangers: Array<Pick<Assignment, 'tier' | 'targetId'>> = [
  { tier: 'model', targetId: 'PAX-A80' },
  { tier: 'organisation', targetId: 'org_c' },
  { tier: 'group', targetId: 'grp_9' },
  { tier: 'merchant', targetId: 'mer_2' },
  { tier: 'terminal', targetId: 'dev_2' },
];

const timeout = fc.integer({ min: 5, max: 120 });
/** For each rung, maybe a timeoutS; a shuffled order of assignments (load order must not matter). */
const rungs = fc.array(fc.option(timeout, { nil: undefined }), { minLength: ladder.length, maxLength: ladder.length });

function assignmentsOf(values: (number | undefined)[], extra: (number | undefined)[] = []): Assignment[] {
  const reach = ladder.flatMap((r, i) => (values[i] === undefined ? [] : [{ ...r, values: { timeoutS: values[i] } }]));
  const far = strangers.flatMap((r, i) => (extra[i] === undefined ? [] : [{ ...r, values: { timeoutS: extra[i] } }]));
  return [...far, ...reach].reverse();
}

describe('parameter precedence', () => {
  it('the highest tier that sets a key wins, and the others never do', () => {
    fc.assert(
      fc.property(rungs, fc.array(fc.option(timeout, { nil: undefined }), { minLength: 5, maxLength: 5 }), (values, extra) => {
        const d = desiredParameters(template, assignmentsOf(values, extra), facts);
        const top = values.map((v, i) => (v === undefined ? -1 : i)).reduce((a, b) => Math.max(a, b), -1);
        if (top < 0) {
          expect(d.values.timeoutS).toBe(30);
          expect(d.sourceOf.timeoutS).toEqual({ tier: 'default', id: 'ptpl_test' });
        } else {
          expect(d.values.timeoutS).toBe(values[top]);
          expect(d.sourceOf.timeoutS).toEqual({ tier: ladder[top]!.tier, id: ladder[top]!.targetId });
        }
        expect(d.digest).toBe(parametersDigest(d.values));
      }),
    );
  });

  it("removing the winning tier's value falls back to the next tier down", () => {
    fc.assert(
      fc.property(rungs, (values) => {
        const top = values.map((v, i) => (v === undefined ? -1 : i)).reduce((a, b) => Math.max(a, b), -1);
        fc.pre(top >= 0);
        const without = values.map((v, i) => (i === top ? undefined : v));
        const next = without.map((v, i) => (v === undefined ? -1 : i)).reduce((a, b) => Math.max(a, b), -1);
        const d = desiredParameters(template, assignmentsOf(without), facts);
        expect(d.values.timeoutS).toBe(next < 0 ? 30 : without[next]);
        expect(d.sourceOf.timeoutS?.tier).toBe(next < 0 ? 'default' : ladder[next]!.tier);
      }),
    );
  });

  it('a value that does not fit its field is skipped with an issue, and the tier below is kept', () => {
    fc.assert(
      fc.property(timeout, fc.oneof(fc.integer({ min: 121, max: 10_000 }), fc.integer({ max: 4 }), fc.string(), fc.boolean()), (merchantValue, bad) => {
        const d = desiredParameters(
          template,
          [
            { tier: 'merchant', targetId: 'mer_1', values: { timeoutS: merchantValue } },
            { tier: 'terminal', targetId: 'dev_1', values: { timeoutS: bad, nope: 1 } },
          ],
          facts,
        );
        expect(d.values.timeoutS).toBe(merchantValue);
        expect(d.sourceOf.timeoutS).toEqual({ tier: 'merchant', id: 'mer_1' });
        expect(d.issues.map((i) => i.path).sort()).toEqual(['assignments.terminal.dev_1.nope', 'assignments.terminal.dev_1.timeoutS']);
      }),
    );
  });

  it('a required field without a value is an issue', () => {
    const noDefault = { ...template, fields: fields.map((f) => (f.key === 'host' ? { key: 'host', type: 'host' as const, required: true } : f)) };
    expect(desiredParameters(noDefault, [], facts).issues).toEqual([{ path: 'values.host', message: 'a value is required' }]);
    expect(desiredParameters(noDefault, [{ tier: 'model', targetId: 'PAX-A920', values: { host: '10.0.0.1:8443' } }], facts).issues).toEqual([]);
  });

  it('drift is the keys that differ, either side missing included', () => {
    expect(driftKeys({ a: 1, b: 'x' }, { a: 1, b: 'y', c: true })).toEqual(['b', 'c']);
    expect(driftKeys({ a: 1 }, { a: 1 })).toEqual([]);
    expect(driftKeys({ b: 1, a: 2 }, null)).toEqual(['a', 'b']);
  });
});

describe('parameter values against their fields', () => {
  it('names each bad value by its path', () => {
    const issues = valueIssues(fields, { host: 'not a host!', currency: 'JPY', tips: 'yes', timeoutS: 500, header: 'x'.repeat(41), other: 1 });
    expect(issues.map((i) => i.path).sort()).toEqual(['values.currency', 'values.header', 'values.host', 'values.other', 'values.timeoutS', 'values.tips']);
    expect(valueIssues(fields, { host: '[::1]:443', currency: 'GBP', tips: true, timeoutS: 5, header: 'Chez Paul' })).toEqual([]);
    expect(valueIssues(fields, { host: 'acq.example.com:70000' })[0]?.message).toMatch(/port/);
  });

  it('refuses fields whose default does not fit them, enums without values, duplicate keys', () => {
    expect(parameterField.safeParse({ key: 't', type: 'integer', min: 1, max: 3, default: 4 }).success).toBe(false);
    expect(parameterField.safeParse({ key: 'c', type: 'enum' }).success).toBe(false);
    expect(parameterField.safeParse({ key: 'c', type: 'boolean', values: ['a'] }).success).toBe(false);
    const dup = parameterTemplateInput.safeParse({ name: 'x', appliesTo: { model: 'M' }, fields: [fields[0], fields[0]] });
    expect(dup.success).toBe(false);
    if (!dup.success) expect(dup.error.issues[0]?.path).toEqual(['fields', 1, 'key']);
  });

  it('the agent accepts what precedence produces and refuses a changed value or a wrong digest', () => {
    fc.assert(
      fc.property(rungs, (values) => {
        const d = desiredParameters(template, assignmentsOf(values), facts);
        const push = { templateId: template.id, version: 1, digest: d.digest, fields, values: d.values };
        expect(checkParameters(push)).toEqual({ ok: true });
        expect(checkParameters({ ...push, values: { ...d.values, tips: !d.values.tips } })).toMatchObject({ ok: false, code: 'digest_mismatch' });
        const bad = { ...d.values, timeoutS: 1 };
        expect(checkParameters({ ...push, values: bad, digest: parametersDigest(bad) })).toMatchObject({ ok: false, code: 'invalid_parameters' });
      }),
      { numRuns: 50 },
    );
  });
});
