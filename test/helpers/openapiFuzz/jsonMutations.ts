// Mutations of a JSON body at one node chosen among those its schema describes: NUL and control
// characters, lone surrogates, long strings, huge numbers and number texts JSON.stringify never
// writes, wrong types, deep nesting, extra or missing properties.
import type { JsonSchema, Resolve } from './document.ts';
import { CONTROL, deepArray, deepObject, insertInto, pickOf, SURROGATES } from './garbage.ts';
import { definitelyRefuses } from './refusal.ts';

interface Node {
  /** Keys from the root; [] is the whole value. */
  at: (string | number)[];
  value: unknown;
  schema: JsonSchema | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function nodesOf(value: unknown, schema: JsonSchema | undefined, resolve: Resolve, at: (string | number)[] = []): Node[] {
  const s = schema && resolve(schema);
  const here: Node = { at, value, schema: s };
  if (Array.isArray(value)) return [here, ...value.flatMap((item, i) => nodesOf(item, s?.items, resolve, [...at, i]))];
  if (isObject(value)) {
    const child = (key: string) =>
      s?.properties?.[key] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    return [here, ...Object.entries(value).flatMap(([key, item]) => nodesOf(item, child(key), resolve, [...at, key]))];
  }
  return [here];
}

function replaceAt(root: unknown, at: readonly (string | number)[], next: unknown): unknown {
  if (at.length === 0) return next;
  const [key, ...rest] = at;
  if (Array.isArray(root)) return root.map((item, i) => (i === key ? replaceAt(item, rest, next) : item));
  if (isObject(root) && typeof key === 'string') return { ...root, [key]: replaceAt(root[key], rest, next) };
  return root;
}

/** Stands for a JSON text spliced in after JSON.stringify (a number literal JSON.stringify cannot write). */
const RAW = '\u{E000}raw\u{E000}';

const HUGE_NUMBERS = [1e308, -1e308, -0, 2 ** 64, 2 ** 53 + 2, -(2 ** 63), 0.5, 5e-324];
/** JSON number texts JSON.stringify never writes: Infinity on parse, -0, past 2**64, underflow; and non-JSON ones. */
const NUMBER_TEXTS: [text: string, json: boolean][] = [
  ['1e999', true],
  ['-1e999', true],
  ['-0', true],
  ['18446744073709551616', true],
  ['1e-400', true],
  ['123456789012345678901234567890', true],
  ['NaN', false],
  ['Infinity', false],
  ['0x10', false],
  ['01', false],
  ['1.', false],
];
const WRONG_TYPES: unknown[] = [null, true, 0, '', 'x', [], {}, ['x'], { x: 1 }];
const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'zz_extra', '', ' ', 'toString', 'hasOwnProperty'];

type ValueMutation = (node: Node, pick: number) => { value: unknown; refuse: boolean; raw?: string; name: string } | undefined;

const withRefuse = (node: Node, value: unknown) => node.schema !== undefined && definitelyRefuses(node.schema, value);

const valueMutations: Record<string, ValueMutation> = {
  nul: (n) => (typeof n.value === 'string' ? { name: 'NUL', value: insertInto(n.value, '\u0000'), refuse: true } : undefined),
  control: (n, p) =>
    typeof n.value === 'string' ? { name: 'control character', value: insertInto(n.value, pickOf(CONTROL, p)), refuse: false } : undefined,
  surrogate: (n, p) =>
    typeof n.value === 'string' ? { name: 'lone surrogate', value: insertInto(n.value, pickOf(SURROGATES, p)), refuse: true } : undefined,
  long: (n, p) => {
    if (typeof n.value !== 'string') return undefined;
    const value = pickOf(['a', '€', '😀', n.value || 'b'], p)
      .repeat(100_000)
      .slice(0, 100_000);
    return { name: 'long string', value, refuse: withRefuse(n, value) };
  },
  hugeNumber: (n, p) => {
    const value = pickOf(HUGE_NUMBERS, p);
    return { name: `number ${Object.is(value, -0) ? '-0' : value}`, value, refuse: withRefuse(n, value) };
  },
  numberText: (n, p) => {
    const [raw, json] = pickOf(NUMBER_TEXTS, p);
    return { name: `number text ${raw}`, value: RAW, raw, refuse: !json || withRefuse(n, JSON.parse(raw)) };
  },
  wrongType: (n, p) => {
    const value = pickOf(WRONG_TYPES, p);
    return { name: `wrong type ${JSON.stringify(value)}`, value, refuse: withRefuse(n, value) };
  },
  deep: (n, p) => {
    const value = p % 2 === 0 ? deepArray(2_000) : deepObject(2_000);
    return { name: `nesting 2000 (${p % 2 === 0 ? 'arrays' : 'objects'})`, value, refuse: withRefuse(n, value) };
  },
  extraProperty: (n, p) => {
    if (!isObject(n.value)) return undefined;
    const key = pickOf(EXTRA_KEYS, p);
    const value: Record<string, unknown> = { ...n.value };
    // defineProperty: `__proto__` as an own key, as JSON.parse makes it on the server.
    Object.defineProperty(value, key, { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
    const closed = n.schema?.additionalProperties === false && !(key in (n.schema.properties ?? {}));
    return { name: `extra property ${JSON.stringify(key)}`, value, refuse: closed };
  },
  dropRequired: (n, p) => {
    if (!isObject(n.value) || !n.schema?.required?.length) return undefined;
    const key = pickOf(n.schema.required, p);
    const { [key]: _dropped, ...value } = n.value;
    const defaulted = n.schema.properties?.[key]?.default !== undefined;
    return { name: `without required ${key}`, value, refuse: !defaulted };
  },
};

export const VALUE_MUTATIONS = Object.keys(valueMutations);

/** The JSON text of `value` with one node mutated; undefined when the mutation fits no node. */
export function mutateJson(value: unknown, schema: JsonSchema, resolve: Resolve, kind: string, nodePick: number, pick: number) {
  const mutation = valueMutations[kind];
  if (!mutation) throw new Error(`no mutation ${kind}`);
  const nodes = nodesOf(value, schema, resolve);
  const fits = nodes.map((n) => ({ n, m: mutation(n, pick) })).filter((x) => x.m !== undefined);
  if (fits.length === 0) return undefined;
  const { n, m } = pickOf(fits, nodePick);
  if (!m) return undefined;
  let text = JSON.stringify(replaceAt(value, n.at, m.value)) ?? '';
  if (m.raw !== undefined) text = text.replace(JSON.stringify(RAW), m.raw);
  return { text, refuse: m.refuse, name: `${m.name} at ${n.at.join('.') || '(root)'}` };
}
