// The new-template form's state as text, and the body of POST /v1/parameter-templates made from
// it. The body is judged by the API's own schema (schemas/parameters.ts parameterTemplateInput),
// so the form only turns text into JSON values and leaves every rule to that schema: a default
// typed as "abc" for an integer field is sent as the string and refused with its path.
import type { z } from 'zod';
import { parameterTemplateInput, type ParameterField, type ParameterFieldType } from '../../../../schemas/parameters.ts';

export interface FieldDraft {
  key: string;
  type: ParameterFieldType;
  required: boolean;
  /** The default as typed ('' for none); a boolean's is '', 'true' or 'false'. */
  default: string;
  min: string;
  max: string;
  /** An enum's values, comma-separated. */
  values: string;
  description: string;
}

export interface TemplateDraft {
  name: string;
  description: string;
  appliesTo: 'model' | 'app';
  target: string;
  fields: FieldDraft[];
}

export const emptyField = (): FieldDraft => ({
  key: '',
  type: 'string',
  required: false,
  default: '',
  min: '',
  max: '',
  values: '',
  description: '',
});

export const emptyDraft = (): TemplateDraft => ({ name: '', description: '', appliesTo: 'model', target: '', fields: [emptyField()] });

/** min and max bound integer values and string lengths; other types take none. */
export const hasBounds = (type: ParameterFieldType) => type === 'integer' || type === 'string';

const text = (v: unknown) => (v === undefined ? '' : String(v));

/** A template as the form's starting point for its next version: same name, fields and all. */
export function draftOf(t: {
  name: string;
  description: string | null;
  appliesTo: { model: string } | { app: string };
  fields: ParameterField[];
}): TemplateDraft {
  return {
    name: t.name,
    description: t.description ?? '',
    appliesTo: 'model' in t.appliesTo ? 'model' : 'app',
    target: 'model' in t.appliesTo ? t.appliesTo.model : t.appliesTo.app,
    fields: t.fields.map((f) => ({
      key: f.key,
      type: f.type,
      required: f.required,
      default: text(f.default),
      min: text(f.min),
      max: text(f.max),
      values: (f.values ?? []).join(', '),
      description: f.description ?? '',
    })),
  };
}

function defaultOf(f: FieldDraft): unknown {
  const typed = f.default.trim();
  if (typed === '') return undefined;
  if (f.type === 'boolean') return typed === 'true' ? true : typed === 'false' ? false : typed;
  if (f.type === 'integer') return /^-?\d+$/.test(typed) ? Number(typed) : typed;
  return f.default;
}

const boundOf = (typed: string) => (typed.trim() === '' ? undefined : Number(typed.trim()));

/** The body the draft stands for, before the schema has judged it (fields left empty are absent). */
export function candidateOf(d: TemplateDraft): Record<string, unknown> {
  return {
    name: d.name.trim(),
    ...(d.description.trim() ? { description: d.description.trim() } : {}),
    appliesTo: d.appliesTo === 'model' ? { model: d.target.trim() } : { app: d.target.trim() },
    fields: d.fields.map((f) => {
      const field: Record<string, unknown> = { key: f.key.trim(), type: f.type, required: f.required };
      const def = defaultOf(f);
      if (def !== undefined) field.default = def;
      if (hasBounds(f.type)) {
        const min = boundOf(f.min);
        const max = boundOf(f.max);
        if (min !== undefined) field.min = min;
        if (max !== undefined) field.max = max;
      }
      if (f.type === 'enum')
        field.values = f.values
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
      if (f.description.trim()) field.description = f.description.trim();
      return field;
    }),
  };
}

export type TemplateBody = z.infer<typeof parameterTemplateInput>;

/** The body checked by the API's schema, or each issue with its path (`fields.0.default: …`). */
export function checkedBody(d: TemplateDraft): { body: TemplateBody } | { problem: string } {
  const parsed = parameterTemplateInput.safeParse(candidateOf(d));
  if (parsed.success) return { body: parsed.data };
  return { problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'template'}: ${i.message}`).join('; ') };
}
