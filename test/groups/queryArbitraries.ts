// Random fleet queries (syntax trees) for the property tests: the printer/parser round trip and
// the agreement of the SQL compiler with the in-memory evaluator. Spans are filled with zeros:
// the tests compare trees with their spans stripped.
import fc from 'fast-check';
import type { CompareOp, FieldRef, KeyedFieldRef, LatLon, Literal, QueryNode } from '../../schemas/fleetQuery.ts';
import { durationUnits } from '../../schemas/fleetQuery.ts';
import { fieldSpecs } from '../../server/groups/query/fields.ts';

const span = { start: 0, end: 0 };

export interface QueryDomain {
  /** Strings compared with text fields; small sets make matches likely over a small fleet. */
  text: fc.Arbitrary<string>;
  labelKeys: fc.Arbitrary<string>;
  slots: fc.Arbitrary<string>;
  versions: fc.Arbitrary<string>;
  appNames: fc.Arbitrary<string>;
  lat: fc.Arbitrary<number>;
  lon: fc.Arbitrary<number>;
}

/** No -0: it prints as 0, which parses back as +0. */
const noNegZero = (a: fc.Arbitrary<number>) => a.map((n) => (Object.is(n, -0) ? 0 : n));
export const latIn = (min: number, max: number) => noNegZero(fc.double({ min, max, noNaN: true }));

export const wideDomain: QueryDomain = {
  text: fc.string({ maxLength: 12 }),
  labelKeys: fc.string({ minLength: 1, maxLength: 10 }),
  slots: fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/),
  versions: fc.array(fc.nat(300), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.')),
  // Package names print bare (dotted identifiers); other keys need quotes.
  appNames: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,5}(\.[a-z_][a-z0-9_]{0,5}){1,3}$/), fc.string({ minLength: 1, maxLength: 10 })),
  lat: latIn(-90, 90),
  lon: latIn(-180, 180),
};

function keyedFieldArb(d: QueryDomain): fc.Arbitrary<KeyedFieldRef> {
  return fc.oneof(
    d.labelKeys.map((key): KeyedFieldRef => ({ name: 'label', key })),
    d.slots.map((key): KeyedFieldRef => ({ name: 'keyVersion', key })),
    d.appNames.map((key): KeyedFieldRef => ({ name: 'app', key })),
  );
}

function fieldArb(d: QueryDomain): fc.Arbitrary<FieldRef> {
  const plain = fc.constantFrom('serial', 'model', 'fw', 'merchant', 'mcc', 'org', 'lastSeen', 'fault').map((name): FieldRef => ({ name }));
  return fc.oneof(plain, keyedFieldArb(d));
}

function literalArb(d: QueryDomain, field: FieldRef, op: CompareOp | 'in'): fc.Arbitrary<Literal> {
  const spec = fieldSpecs[field.name];
  switch (spec.valueType) {
    case 'string':
      return d.text.map((value): Literal => ({ type: 'string', value }));
    case 'version':
      return (op === '~' ? fc.oneof(d.versions, d.text) : d.versions).map((value): Literal => ({ type: 'string', value }));
    case 'integer':
      return fc.nat(6).map((value): Literal => ({ type: 'number', value }));
    case 'duration':
      return fc.record({ amount: fc.nat(400), unit: fc.constantFrom(...durationUnits) }).map((v): Literal => ({ type: 'duration', ...v }));
  }
}

function predicateArb(d: QueryDomain): fc.Arbitrary<QueryNode> {
  const compareOrIn = fieldArb(d).chain((field) => {
    const spec = fieldSpecs[field.name];
    const compare = fc
      .constantFrom(...spec.ops)
      .chain((op) => literalArb(d, field, op).map((value): QueryNode => ({ kind: 'compare', field, op, value, span })));
    if (!spec.in) return compare;
    const inList = fc
      .array(literalArb(d, field, 'in'), { minLength: 1, maxLength: 3 })
      .map((values): QueryNode => ({ kind: 'in', field, values, span }));
    return fc.oneof(compare, inList);
  });
  const point = fc.record({ lat: d.lat, lon: d.lon });
  const within = fc
    .record({ center: point, amount: fc.double({ min: 0.001, max: 500, noNaN: true }), unit: fc.constantFrom('m' as const, 'km' as const) })
    .map(({ center, amount, unit }): QueryNode => ({ kind: 'within', center, radius: { amount, unit }, span }));
  const bbox = fc
    .tuple(d.lat, d.lat, d.lon, d.lon)
    .map(([a, b, west, east]): QueryNode => ({ kind: 'bbox', south: Math.min(a, b), north: Math.max(a, b), west, east, span }));
  const polygon = fc.array(point, { minLength: 3, maxLength: 6 }).map((points: LatLon[]): QueryNode => ({ kind: 'polygon', points, span }));
  const exists = keyedFieldArb(d).map((field): QueryNode => ({ kind: 'exists', field, span }));
  return fc.oneof({ weight: 6, arbitrary: compareOrIn }, fc.constant<QueryNode>({ kind: 'online', span }), exists, within, bbox, polygon);
}

export function queryArb(d: QueryDomain): fc.Arbitrary<QueryNode> {
  const { tree } = fc.letrec<{ tree: QueryNode }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      predicateArb(d),
      tie('tree').map((expr): QueryNode => ({ kind: 'not', expr, span })),
      fc
        .tuple(fc.constantFrom('and' as const, 'or' as const), tie('tree'), tie('tree'))
        .map(([kind, left, right]): QueryNode => ({ kind, left, right, span })),
    ),
  }));
  return tree;
}

/** The tree without its spans, for comparing a reparsed tree with the generated one. */
export function withoutSpans(n: QueryNode): unknown {
  return JSON.parse(JSON.stringify(n, (key, value: unknown) => (key === 'span' ? undefined : value)));
}
