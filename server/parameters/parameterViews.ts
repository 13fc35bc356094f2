// What a terminal should have, what it reports and where they differ: the reads behind
// `GET /v1/devices/{id}/parameters` and `GET /v1/parameters/drift`, the push and the drift watch.
import type { ReportedParameters } from '../../schemas/parameters.ts';
import type { ParameterTemplateRow } from '../../schemas/tables/parameters.ts';
import { desiredParameters, driftKeys, type Assignment, type DesiredParameters, type TerminalFacts } from './precedence.ts';

export interface Reported extends ReportedParameters {
  reportedAt: Date;
}

export interface DriftReading {
  /** Keys whose reported value differs from the desired one. */
  keys: string[];
  /** The terminal reports another template or version than the one desired. */
  templateMismatch: boolean;
  /** Nothing differs. */
  inSync: boolean;
}

export const templateForValues = (t: ParameterTemplateRow) => ({ id: t.id, version: t.version, fields: t.fields });

export function desiredFor(template: ParameterTemplateRow, assignments: readonly Assignment[], facts: TerminalFacts): DesiredParameters {
  return desiredParameters(templateForValues(template), assignments, facts);
}

export function driftOf(template: ParameterTemplateRow, desired: DesiredParameters, reported: ReportedParameters | null): DriftReading {
  const templateMismatch = reported !== null && (reported.templateId !== template.id || reported.version !== template.version);
  const keys = driftKeys(desired.values, reported?.values ?? null);
  return { keys, templateMismatch, inSync: reported !== null && !templateMismatch && keys.length === 0 };
}

/** A template as the API shows it. */
export function templateView(t: ParameterTemplateRow) {
  return {
    id: t.id,
    name: t.name,
    version: t.version,
    description: t.description,
    appliesTo: t.appliesTo,
    fields: t.fields,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
  };
}
