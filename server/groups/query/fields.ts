// What each field of the query language compares: its value type and the operators it takes.
// The parser refuses anything else with the position of the offending token, so the compiler and
// the evaluator only ever see comparisons that mean something.
import type { CompareOp, FieldRef, KeyedField, PlainField } from '../../../schemas/fleetQuery.ts';

/** `version`: dotted numbers compared segment by segment (2.10.0 > 2.9.1); `integer`: whole numbers ≥ 0. */
export type ValueType = 'string' | 'version' | 'integer' | 'duration';

export interface FieldSpec {
  valueType: ValueType;
  ops: readonly CompareOp[];
  /** Whether `field in (…)` is allowed. */
  in: boolean;
  /** What the field is, for error messages and docs. */
  about: string;
}

const text = (about: string, ops: readonly CompareOp[] = ['=', '!=', '~']): FieldSpec => ({ valueType: 'string', ops, in: true, about });
const ordered = ['=', '!=', '<', '<=', '>', '>='] as const;

export const fieldSpecs: Readonly<Record<PlainField | KeyedField, FieldSpec>> = {
  serial: text('the serial number (~ is a prefix match)'),
  model: text('the model (~ is contains)'),
  fw: { valueType: 'version', ops: [...ordered, '~'], in: true, about: 'the firmware version the terminal reports (~ is a text prefix)' },
  app: { valueType: 'version', ops: [...ordered, '~'], in: true, about: 'the version of an installed payment app' },
  merchant: text('the id of the merchant the terminal is bound to'),
  mcc: text('the merchant category code of its merchant'),
  org: { valueType: 'string', ops: ['=', '!='], in: true, about: 'the organisation, with its whole subtree' },
  label: text('the value of a label'),
  lastSeen: { valueType: 'duration', ops: ['<', '<=', '>', '>='], in: false, about: 'how long ago the terminal was last heard' },
  fault: { valueType: 'string', ops: ['=', '~'], in: true, about: 'the code of an open (unresolved) fault' },
  keyVersion: { valueType: 'integer', ops: ordered, in: true, about: 'the version of the installed key in a slot' },
};

export const isKeyedField = (name: string): name is KeyedField => name === 'label' || name === 'app' || name === 'keyVersion';
export const isPlainField = (name: string): name is PlainField => Object.hasOwn(fieldSpecs, name) && !isKeyedField(name);

export const specOf = (field: FieldRef): FieldSpec => fieldSpecs[field.name];

/** Dotted decimal numbers, nothing else: what `fw` and `app.<name>` compare as versions. */
export const VERSION_PATTERN = /^[0-9]+(\.[0-9]+)*$/;
