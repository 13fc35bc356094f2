// Terminal parameters (docs/parameters.md): a template names the fields a payment app or a model
// takes (acquirer host, currency, tips, receipt header, timeouts…), each with its type, default
// and bounds. Shared by the server (templates, assignments, pushes, drift) and the agent (it
// validates what a `config.set` brings against the fields the command carries, and reports the
// applied set on its `state` topic), so both judge a value by the same function.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonicalJson.ts';

export const parameterFieldTypes = ['string', 'integer', 'boolean', 'enum', 'host'] as const;
export type ParameterFieldType = (typeof parameterFieldTypes)[number];

/** A field's key: what the agent stores and reports the value under. */
export const parameterKey = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,63}$/, 'a key starts with a letter, then letters, digits, `_` or `.` (at most 64)');

export const MAX_STRING_VALUE = 256;
export const MAX_FIELDS = 100;
/** A template's fields as JSON: they travel in every push, and the set comes back on `state` (64 KiB). */
export const MAX_FIELDS_JSON = 24 * 1024;

/** One value: a string (string, enum, host), a whole number (integer) or a boolean. */
export const parameterValue = z.union([z.string().max(MAX_STRING_VALUE), z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1), z.boolean()]);
export type ParameterValue = z.infer<typeof parameterValue>;

export const parameterValues = z.record(parameterKey, parameterValue);
export type ParameterValues = z.infer<typeof parameterValues>;

/** `host` or `host:port`: a DNS name, an IPv4 address or a bracketed IPv6 address. */
const HOST = /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/;

const fieldShape = z
  .object({
    key: parameterKey,
    type: z.enum(parameterFieldTypes),
    description: z.string().max(200).optional(),
    /** Whether a terminal must end up with a value (from any tier, or this default). */
    required: z.boolean().default(false),
    default: parameterValue.optional(),
    /** integer: the smallest and largest value; string: the shortest and longest length. */
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    /** enum: the allowed values. */
    values: z.array(z.string().min(1).max(64)).min(1).max(50).optional(),
  })
  .strict();
export type ParameterField = z.output<typeof fieldShape>;

/** Why `value` does not fit `field`, or null when it does. */
export function fieldIssue(field: ParameterField, value: unknown): string | null {
  switch (field.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be a boolean';
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be a whole number';
      if (field.min !== undefined && value < field.min) return `must be at least ${field.min}`;
      if (field.max !== undefined && value > field.max) return `must be at most ${field.max}`;
      return null;
    case 'enum':
      if (typeof value !== 'string') return 'must be a string';
      return field.values?.includes(value) ? null : `must be one of ${(field.values ?? []).join(', ')}`;
    case 'host': {
      if (typeof value !== 'string') return 'must be a string';
      const m = HOST.exec(value);
      if (!m || value.length > 253 + 6) return 'must be a host name or address, optionally with :port';
      if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) return 'the port must be 1 to 65535';
      return null;
    }
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (value.length > MAX_STRING_VALUE) return `must be at most ${MAX_STRING_VALUE} characters`;
      if (field.min !== undefined && value.length < field.min) return `must be at least ${field.min} characters`;
      if (field.max !== undefined && value.length > field.max) return `must be at most ${field.max} characters`;
      return null;
  }
}

/** A field as a template declares it: bounds fit its type, its default fits the field. */
export const parameterField = fieldShape.superRefine((f, ctx) => {
  if (f.type === 'enum' && !f.values) ctx.addIssue({ code: 'custom', path: ['values'], message: 'an enum field lists its values' });
  if (f.type !== 'enum' && f.values) ctx.addIssue({ code: 'custom', path: ['values'], message: 'only an enum field lists values' });
  if ((f.min !== undefined || f.max !== undefined) && f.type !== 'integer' && f.type !== 'string')
    ctx.addIssue({ code: 'custom', path: ['min'], message: 'min and max apply to integer and string fields' });
  if (f.min !== undefined && f.max !== undefined && f.min > f.max) ctx.addIssue({ code: 'custom', path: ['max'], message: 'max is below min' });
  if (f.default !== undefined) {
    const issue = fieldIssue(f, f.default);
    if (issue) ctx.addIssue({ code: 'custom', path: ['default'], message: `the default ${issue}` });
  }
});

export const parameterFields = z
  .array(parameterField)
  .min(1)
  .max(MAX_FIELDS)
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    fields.forEach((f, i) => {
      if (seen.has(f.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `key ${f.key} is declared twice` });
      seen.add(f.key);
    });
    if (JSON.stringify(fields).length > MAX_FIELDS_JSON) ctx.addIssue({ code: 'custom', path: [], message: `the fields take more than ${MAX_FIELDS_JSON} bytes as JSON` });
  });

/** What a template applies to: terminals of one model, or those running one payment app. */
export const parameterAppliesTo = z.union([
  z.object({ model: z.string().min(1).max(64) }).strict(),
  z.object({ app: z.string().min(1).max(64) }).strict(),
]);
export type ParameterAppliesTo = z.infer<typeof parameterAppliesTo>;

/** The body of `POST /v1/parameter-templates`; a name already used makes the next version. */
export const parameterTemplateInput = z
  .object({
    name: z.string().min(1).max(100),
    description: z.string().max(1000).optional(),
    appliesTo: parameterAppliesTo,
    fields: parameterFields,
  })
  .strict();
export type ParameterTemplateInput = z.infer<typeof parameterTemplateInput>;

/** What precedence and validation need of a template. */
export interface TemplateForValues {
  id: string;
  version: number;
  fields: readonly ParameterField[];
}

export interface ValueIssue {
  path: string;
  message: string;
}

/**
 * Checks `values` against the fields: unknown keys and values of the wrong type or out of bounds
 * are issues (paths `<prefix>.<key>`); with `complete`, so is a required field without a value.
 */
export function valueIssues(fields: readonly ParameterField[], values: Record<string, unknown>, opts: { complete?: boolean; prefix?: string } = {}): ValueIssue[] {
  const prefix = opts.prefix ?? 'values';
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const issues: ValueIssue[] = [];
  for (const [key, value] of Object.entries(values)) {
    const field = byKey.get(key);
    if (!field) issues.push({ path: `${prefix}.${key}`, message: 'the template has no such field' });
    else {
      const issue = fieldIssue(field, value);
      if (issue) issues.push({ path: `${prefix}.${key}`, message: issue });
    }
  }
  if (opts.complete)
    for (const f of fields) if (f.required && values[f.key] === undefined) issues.push({ path: `${prefix}.${f.key}`, message: 'a value is required' });
  return issues;
}

/** The digest of a value set: SHA-256 of its canonical JSON (RFC 8785), `sha256:<hex>`. */
export const parametersDigest = (values: ParameterValues): string => `sha256:${createHash('sha256').update(canonicalJson(values)).digest('hex')}`;

/** The tiers, lowest first: a value from a later tier wins over one from an earlier. */
export const parameterTiers = ['default', 'model', 'organisation', 'group', 'merchant', 'terminal'] as const;
export type ParameterTier = (typeof parameterTiers)[number];
/** The tiers an operator assigns values at (`default` is the template's own). */
export const assignableTiers = ['model', 'organisation', 'group', 'merchant', 'terminal'] as const;
export type AssignableTier = (typeof assignableTiers)[number];

/** The `parameters` member of a `config.set`: everything the agent needs to check and apply. */
export const parametersPush = z
  .object({
    templateId: z.string().min(1).max(64),
    version: z.number().int().positive(),
    /** parametersDigest(values): the agent recomputes it and refuses a set that does not match. */
    digest: z.string().max(80),
    fields: z.array(fieldShape).min(1).max(MAX_FIELDS),
    values: parameterValues,
  })
  .strict();
export type ParametersPush = z.infer<typeof parametersPush>;

/** What the agent reports on `state` (optional member `parameters`) once it applied a push. */
export const reportedParameters = z
  .object({
    templateId: z.string().min(1).max(64),
    version: z.number().int().positive(),
    digest: z.string().max(80),
    values: parameterValues,
  });
export type ReportedParameters = z.infer<typeof reportedParameters>;
