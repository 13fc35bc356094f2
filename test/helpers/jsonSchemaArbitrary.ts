// Payloads generated from a JSON Schema for property tests of validators: mostly shaped like
// the schema, with the edges where validators tend to disagree (bounds, lengths counted in
// UTF-16 units or code points, integers, unknown keys, missing required keys, wrong types).
import fc from 'fast-check';

type Schema = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const asSchema = (v: unknown): Schema => (typeof v === 'object' && v !== null ? (v as Schema) : {});

/** Anything JSON.parse can return: what a terminal may send instead of the expected type. */
const anyJson = fc.jsonValue({ maxDepth: 2 });

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<unknown> {
  const min = num(s.minimum) ?? -1e6;
  const max = num(s.maximum) ?? 1e6;
  const lo = Math.max(min, -1e15);
  const hi = Math.min(max, 1e15);
  const edges = [min, max, min - 1, max + 1, min - 0.5, max + 0.5, 0, -0, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -1e300, 1e300];
  return fc.oneof(
    { weight: 24, arbitrary: integer ? fc.integer({ min: Math.ceil(Math.max(lo, -(2 ** 31))), max: Math.floor(Math.min(hi, 2 ** 31)) }) : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }) },
    { weight: 2, arbitrary: fc.constantFrom(...edges) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
}

function stringArb(s: Schema): fc.Arbitrary<unknown> {
  const maxLength = num(s.maxLength);
  const minLength = num(s.minLength) ?? 0;
  const valid = Array.isArray(s.enum)
    ? fc.constantFrom(...s.enum)
    : typeof s.pattern === 'string'
      ? fc.stringMatching(new RegExp(s.pattern))
      : fc.string({ minLength, maxLength: maxLength ?? 20, unit: fc.oneof(fc.constant('a'), fc.constant('\u{1F600}'), fc.constant('\u00e9')) });
  const edges: string[] = [''];
  if (maxLength !== undefined) {
    // At the limit and over it, counted in ASCII, and in astral characters (2 UTF-16 units, 1 code point).
    edges.push('a'.repeat(maxLength), 'a'.repeat(maxLength + 1), '\u{1F600}'.repeat(maxLength), '\u{1F600}'.repeat(maxLength + 1), '\u{1F600}'.repeat(Math.ceil(maxLength / 2) + 1));
  }
  if (Array.isArray(s.enum)) edges.push(...s.enum.map((v) => `${String(v)} `));
  return fc.oneof({ weight: 24, arbitrary: valid }, { weight: 2, arbitrary: fc.constantFrom(...edges) }, { weight: 1, arbitrary: fc.string() });
}

function objectArb(s: Schema): fc.Arbitrary<unknown> {
  const props = asSchema(s.properties);
  const required = Array.isArray(s.required) ? s.required.map(String) : [];
  const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromJsonSchema(asSchema(v))]));
  // Mostly with every required key, so that the deeper rules are reached.
  const shaped = fc.oneof(
    { arbitrary: fc.record(model, { requiredKeys: required }), weight: 4 },
    { arbitrary: fc.record(model, { requiredKeys: [] }), weight: 1 },
  );
  const extras = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor')), anyJson, { maxKeys: 3 });
  return fc.tuple(shaped, extras).map(([o, extra]) => {
    const out: Record<string, unknown> = { ...o };
    // defineProperty: `__proto__` as an own key, as JSON.parse makes it.
    for (const [k, v] of Object.entries(extra)) if (!(k in props)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

/** An arbitrary of values shaped by a JSON Schema (the subset zod's toJSONSchema emits for the wire schemas). */
export function fromJsonSchema(s: Schema): fc.Arbitrary<unknown> {
  const shaped = (() => {
    if (Array.isArray(s.enum)) return stringArb(s);
    switch (s.type) {
      case 'object':
        return s.properties ? objectArb(s) : fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 4 });
      case 'string':
        return stringArb(s);
      case 'integer':
        return numberArb(s, true);
      case 'number':
        return numberArb(s, false);
      case 'boolean':
        return fc.boolean();
      default:
        return anyJson;
    }
  })();
  return fc.oneof({ arbitrary: shaped, weight: 60 }, { arbitrary: anyJson, weight: 1 });
}
