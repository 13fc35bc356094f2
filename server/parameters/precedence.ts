// The one place that decides what a terminal's parameters should be (docs/parameters.md,
// "Tiers and precedence"): the template's defaults, then the values assigned per model, per
// organisation along the terminal's path (root first, its own node last), per static group,
// per merchant and per terminal, each later tier overriding the earlier for the keys it sets.
// Pure: the routes, the push and the drift watch all call it with what they loaded.
import {
  fieldIssue,
  parametersDigest,
  type AssignableTier,
  type ParameterTier,
  type ParameterValues,
  type TemplateForValues,
  type ValueIssue,
} from '../../schemas/parameters.ts';

/** Values set for one template at one tier for one target (a model name, an org, group, merchant or device id). */
export interface Assignment {
  tier: AssignableTier;
  targetId: string;
  values: Readonly<Record<string, unknown>>;
}

/** What precedence needs to know of a terminal. */
export interface TerminalFacts {
  deviceId: string;
  model: string;
  merchantId: string | null;
  /** Organisation ids from the root down to the terminal's own node (empty: none known). */
  orgPath: readonly string[];
  /** Static groups the terminal is a member of. */
  groupIds: readonly string[];
}

/** Where a value came from: the tier and the target it was assigned to (the template id for defaults). */
export interface ValueSource {
  tier: ParameterTier;
  id: string;
}

export interface DesiredParameters {
  values: ParameterValues;
  sourceOf: Record<string, ValueSource>;
  digest: string;
  /** Assigned values that do not fit the template (skipped) and required fields left without a value. */
  issues: ValueIssue[];
}

/** The assignments that reach this terminal, lowest precedence first. */
export function applicableAssignments(assignments: readonly Assignment[], facts: TerminalFacts): Assignment[] {
  const at = (tier: AssignableTier, id: string | null) => (id === null ? undefined : assignments.find((a) => a.tier === tier && a.targetId === id));
  const groups = assignments
    .filter((a) => a.tier === 'group' && facts.groupIds.includes(a.targetId))
    // Two groups setting one key: the one whose id sorts last wins, so the answer never depends on load order.
    .sort((a, b) => (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
  return [
    at('model', facts.model),
    ...facts.orgPath.map((org) => at('organisation', org)),
    ...groups,
    at('merchant', facts.merchantId),
    at('terminal', facts.deviceId),
  ].filter((a): a is Assignment => a !== undefined);
}

export function desiredParameters(template: TemplateForValues, assignments: readonly Assignment[], facts: TerminalFacts): DesiredParameters {
  const values: ParameterValues = {};
  const sourceOf: Record<string, ValueSource> = {};
  const issues: ValueIssue[] = [];
  const byKey = new Map(template.fields.map((f) => [f.key, f]));
  for (const f of template.fields)
    if (f.default !== undefined) {
      values[f.key] = f.default;
      sourceOf[f.key] = { tier: 'default', id: template.id };
    }
  for (const a of applicableAssignments(assignments, facts)) {
    for (const [key, value] of Object.entries(a.values)) {
      const field = byKey.get(key);
      const issue = field ? fieldIssue(field, value) : 'the template has no such field';
      if (issue || !field) {
        issues.push({ path: `assignments.${a.tier}.${a.targetId}.${key}`, message: issue ?? 'not a field' });
        continue;
      }
      // fieldIssue accepted it, so it is a value of the field's type.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        values[key] = value;
        sourceOf[key] = { tier: a.tier, id: a.targetId };
      }
    }
  }
  for (const f of template.fields) if (f.required && values[f.key] === undefined) issues.push({ path: `values.${f.key}`, message: 'a value is required' });
  return { values, sourceOf, digest: parametersDigest(values), issues };
}

/** Keys whose reported value differs from the desired one (missing on either side counts). */
export function driftKeys(desired: Readonly<ParameterValues>, reported: Readonly<ParameterValues> | null): string[] {
  if (!reported) return Object.keys(desired).sort();
  const keys = new Set([...Object.keys(desired), ...Object.keys(reported)]);
  return [...keys].filter((k) => desired[k] !== reported[k]).sort();
}
