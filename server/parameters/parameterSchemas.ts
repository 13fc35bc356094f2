// The parameters API's bodies and answers (docs/parameters.md) in a leaf module: the console and
// the CLI check and parse with them, and the route module's server imports (store, audit, auth)
// must not be bundled into the page.
import { z } from '@hono/zod-openapi';
import { assignableTiers, parameterAppliesTo, parameterField, parameterTiers, parameterValue } from '../../schemas/parameters.ts';

const source = z.object({ tier: z.enum(parameterTiers), id: z.string() }).openapi('ParameterSource');
const values = z.record(z.string(), parameterValue);
const issue = z.object({ path: z.string(), message: z.string() });
export const assignmentView = z
  .object({ tier: z.enum(assignableTiers), targetId: z.string(), values: z.record(z.string(), z.unknown()) })
  .openapi('ParameterAssignment');
export const assignmentAnswer = assignmentView.extend({ removed: z.boolean() });

export const parameterTemplateView = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.number().int(),
    description: z.string().nullable(),
    appliesTo: parameterAppliesTo,
    fields: z.array(parameterField),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ParameterTemplate');
export const templateDetail = parameterTemplateView.extend({ assignments: z.array(assignmentView) }).openapi('ParameterTemplateDetail');

export const assignmentBody = z
  .object({
    tier: z.enum(assignableTiers),
    targetId: z.string().min(1).max(100).openapi({ description: 'model name, or organisation, group, merchant or device id, by tier' }),
    values: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'the values this tier sets (a subset of the fields); null removes the assignment' }),
  })
  .strict();

export const deviceParametersView = z
  .object({
    deviceId: z.string(),
    template: z.object({ id: z.string(), name: z.string(), version: z.number().int() }).nullable(),
    desired: z.object({ values, sourceOf: z.record(z.string(), source), digest: z.string(), issues: z.array(issue) }).nullable(),
    reported: z
      .object({ templateId: z.string(), version: z.number().int(), digest: z.string(), values, reportedAt: z.string() })
      .nullable(),
    drift: z.object({ keys: z.array(z.string()), templateMismatch: z.boolean(), inSync: z.boolean() }).nullable(),
  })
  .openapi('DeviceParameters');

export const driftItem = z
  .object({
    deviceId: z.string(),
    serial: z.string().openapi({ description: 'the terminal’s serial, read with the row (no request per row to name it)' }),
    templateId: z.string(),
    version: z.number().int(),
    keys: z.array(z.string()),
    templateMismatch: z.boolean(),
    reportedAt: z.string(),
  })
  .openapi('ParameterDrift');
