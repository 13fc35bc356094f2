// What a request must be refused for, judged only by what is certain: each request carries
// `refuse`, and a 2xx to one whose `refuse` is true is a finding. False means "not sure", never "valid".
import { typesOf, type JsonSchema } from './document.ts';

/**
 * True when `value` at a node of schema `s` cannot pass it, judged only by what is certain (a
 * simple type, an enum, a bound, a length); false means "not sure".
 */
export function definitelyRefuses(s: JsonSchema, value: unknown): boolean {
  if (s.anyOf || s.oneOf || s.allOf || s.$ref) return false;
  if (s.enum) return !s.enum.some((e) => Object.is(e, value) || e === value);
  const types = typesOf(s);
  if (types.length !== 1) return false;
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  switch (types[0]) {
    case 'string':
      return kind !== 'string' || (typeof value === 'string' && value.length > (s.maxLength ?? Infinity));
    case 'integer':
    case 'number': {
      if (typeof value !== 'number') return true;
      if (!Number.isFinite(value) || (types[0] === 'integer' && !Number.isInteger(value))) return true;
      return (
        value < (s.minimum ?? -Infinity) ||
        value > (s.maximum ?? Infinity) ||
        value <= (s.exclusiveMinimum ?? -Infinity) ||
        value >= (s.exclusiveMaximum ?? Infinity)
      );
    }
    case 'boolean':
      return kind !== 'boolean';
    case 'null':
      return kind !== 'null';
    case 'array':
      return kind !== 'array';
    case 'object':
      return kind !== 'object';
    default:
      return false;
  }
}

/** What `z.coerce.number()` makes of a query text, for judging a mutated numeric parameter. */
export const coerced = (s: JsonSchema, text: string): unknown =>
  typesOf(s).some((t) => t === 'integer' || t === 'number') ? Number(text) : text;

export const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
