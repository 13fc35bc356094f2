// The agent's side of terminal parameters (docs/parameters.md, "The agent's side"): a `config.set`
// carrying `parameters` is checked against the fields it brings before anything is stored (every
// value fits its field, every required field has one, the digest is the values' own), and the set
// applied last is what the terminal reports on its `state` topic.
import { parameterFields, parametersDigest, parametersPush, valueIssues, type ParametersPush, type ReportedParameters } from '../../schemas/parameters.ts';
import type { AgentConfig } from '../schemas.ts';

export type ParametersCheck = { ok: true } | { ok: false; code: 'invalid_parameters' | 'digest_mismatch'; message: string };

export function checkParameters(push: ParametersPush): ParametersCheck {
  const fields = parameterFields.safeParse(push.fields);
  if (!fields.success)
    return { ok: false, code: 'invalid_parameters', message: fields.error.issues.map((i) => `fields.${i.path.join('.')}: ${i.message}`).join('; ') };
  const issues = valueIssues(fields.data, push.values, { complete: true });
  if (issues.length) return { ok: false, code: 'invalid_parameters', message: issues.map((i) => `${i.path}: ${i.message}`).join('; ') };
  const digest = parametersDigest(push.values);
  if (digest !== push.digest) return { ok: false, code: 'digest_mismatch', message: `the values hash to ${digest}, the command says ${push.digest}` };
  return { ok: true };
}

/** The applied set as `state` reports it; undefined when none was applied (or the stored one is unreadable). */
export function reportedParametersOf(config: AgentConfig): ReportedParameters | undefined {
  if (config.parameters === undefined) return undefined;
  const stored = parametersPush.safeParse(config.parameters);
  if (!stored.success) return undefined;
  const { templateId, version, digest, values } = stored.data;
  return { templateId, version, digest, values };
}
