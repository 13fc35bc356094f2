// fast-check arbitraries for values of the shape a JSON Schema describes: what a client that
// read the document would send, before any mutation.
import fc from 'fast-check';
import { typesOf, type JsonSchema, type Resolve } from './document.ts';

const MAX_DEPTH = 4;
const anyJson = fc.jsonValue({ maxDepth: 2 });

/** Values of the shape `schema` describes (not always valid: a pattern or a format may still fail). */
export function valueOf(schema: JsonSchema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  if (s.enum) return fc.constantFrom(...s.enum);
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return fc.oneof(...variants.map((v) => valueOf(v, resolve, depth)));
  const types = typesOf(s);
  if (types.length > 1) return fc.oneof(...types.map((type) => valueOf({ ...s, type }, resolve, depth)));
  const type = types[0] ?? (s.properties ? 'object' : s.items ? 'array' : undefined);
  switch (type) {
    case 'string':
      return stringOf(s);
    case 'integer':
      return fc.integer({
        min: Math.ceil(s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : (s.minimum ?? -(2 ** 31))),
        max: Math.floor(s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : (s.maximum ?? 2 ** 31)),
      });
    case 'number':
      return fc.double({
        min: s.exclusiveMinimum ?? s.minimum ?? -1e9,
        max: s.exclusiveMaximum ?? s.maximum ?? 1e9,
        minExcluded: s.exclusiveMinimum !== undefined,
        maxExcluded: s.exclusiveMaximum !== undefined,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = s.minItems ?? 0;
      if (depth >= MAX_DEPTH && minLength === 0) return fc.constant([]);
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 3, 3));
      return fc.array(s.items ? valueOf(s.items, resolve, depth + 1) : anyJson, { minLength, maxLength });
    }
    case 'object':
      return objectOf(s, resolve, depth);
    default:
      return anyJson;
  }
}

function stringOf(s: JsonSchema): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(s.maxLength ?? 40, minLength + 40));
  if (s.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (s.pattern) {
    const fits = (v: string) => v.length >= minLength && v.length <= (s.maxLength ?? Infinity);
    const pattern = new RegExp(s.pattern);
    // fast-check generates from no lookahead: from the pattern without them, kept if they hold.
    const generated = new RegExp(s.pattern.replace(/\(\?[!=][^)]*\)/g, ''));
    return fc.stringMatching(generated).filter((v) => fits(v) && pattern.test(v));
  }
  // Mostly printable ASCII (gets past validation, reaches the handlers), sometimes any code point.
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength, unit: 'binary' }) },
  );
}

function objectOf(s: JsonSchema, resolve: Resolve, depth: number): fc.Arbitrary<unknown> {
  const required = new Set(s.required ?? []);
  const props = Object.entries(s.properties ?? {}).filter(([name]) => depth < MAX_DEPTH || required.has(name));
  const known = fc.record(Object.fromEntries(props.map(([name, p]) => [name, valueOf(p, resolve, depth + 1)])), {
    requiredKeys: props.map(([name]) => name).filter((name) => required.has(name)),
  });
  const extra = s.additionalProperties;
  if (!extra || typeof extra !== 'object' || depth >= MAX_DEPTH) return known;
  const more = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), valueOf(extra, resolve, depth + 1), { maxKeys: 3 });
  return fc.tuple(known, more).map(([k, m]) => ({ ...m, ...k }));
}
