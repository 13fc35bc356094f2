// fast-check arbitraries for requests to the API, derived from /openapi.json: for one operation,
// a request whose path ids, query and body have the shapes its schemas describe, then mutated
// the way a hostile or broken client would (NUL and control characters, lone surrogates, long
// strings, huge numbers, deep nesting, wrong types, extra or missing properties, broken JSON,
// garbage percent-encoding). Each request says whether the schema must refuse it (`refuse`), so a
// 2xx to it is a finding; `refuse: false` means "may or may not be valid", never "valid".
import fc from 'fast-check';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: JsonSchema;
}

interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface FuzzOperation {
  method: string;
  /** As in the document: `/v1/devices/{id}`. */
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  body?: { mediaType: string; schema: JsonSchema; required: boolean };
}

export interface FuzzRequest {
  method: string;
  /** Path and query, percent-encoded as sent. */
  url: string;
  body?: { text: string | Uint8Array<ArrayBuffer>; contentType: string };
  /** Headers besides the caller's token and the body's type; an `authorization` here replaces the token. */
  headers?: Record<string, string>;
  /** Which mutation made it, for the failure message. */
  mutation: string;
  /** The schema (or the storable-text rule) must refuse it: a 2xx is a finding. */
  refuse: boolean;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

export function operationsOf(doc: OpenApiDocument): FuzzOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, op]) => {
        const params = op.parameters ?? [];
        const [mediaType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
        return {
          method: method.toUpperCase(),
          path,
          pathParams: params.filter((p) => p.in === 'path'),
          query: params.filter((p) => p.in === 'query'),
          ...(mediaType && media ? { body: { mediaType, schema: media.schema, required: op.requestBody?.required === true } } : {}),
        };
      }),
  );
}

/** Follows `$ref` and folds `allOf` into one schema (the shapes zod-openapi writes). */
export function resolver(doc: OpenApiDocument) {
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (schema.$ref) {
      const named = doc.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')];
      if (!named) throw new Error(`unresolved ${schema.$ref}`);
      return resolve(named);
    }
    if (!schema.allOf) return schema;
    const parts = schema.allOf.map(resolve);
    const { allOf: _allOf, ...rest } = schema;
    return parts.reduce<JsonSchema>(
      (merged, part) => ({
        ...merged,
        ...part,
        properties: { ...merged.properties, ...part.properties },
        required: [...(merged.required ?? []), ...(part.required ?? [])],
      }),
      rest,
    );
  };
  return resolve;
}

type Resolve = ReturnType<typeof resolver>;

const typesOf = (s: JsonSchema): string[] => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);

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

// ---- mutations of a JSON value, at one node chosen among those the schema describes ----

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

export const deepArray = (depth: number): unknown => {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};
export const deepObject = (depth: number): unknown => {
  let v: unknown = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

export const insertInto = (text: string, piece: string) =>
  text.slice(0, Math.ceil(text.length / 2)) + piece + text.slice(Math.ceil(text.length / 2));

const CONTROL = ['\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0085', '\u2028', '\uFEFF', '\uFFFF'];
const SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];
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

const pickOf = <T>(list: readonly T[], pick: number): T => list[pick % list.length]!;
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

const VALUE_MUTATIONS = Object.keys(valueMutations);

/** The JSON text of `value` with one node mutated; undefined when the mutation fits no node. */
function mutateJson(value: unknown, schema: JsonSchema, resolve: Resolve, kind: string, nodePick: number, pick: number) {
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

// ---- percent-encoding ----

/** encodeURIComponent that writes a lone surrogate as its WTF-8 bytes instead of throwing. */
export function encodeLoose(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/**
 * `text` percent-encoded with `garbage` spliced in between two of its characters, never inside
 * one's `%XX` bytes: `%00` within a broken sequence stays undecoded, as three characters.
 */
const spliceEncoded = (text: string, garbage: string) => {
  const chars = Array.from(text);
  const mid = Math.ceil(chars.length / 2);
  return encodeLoose(chars.slice(0, mid).join('')) + garbage + encodeLoose(chars.slice(mid).join(''));
};

/** Encoded pieces spliced into a path id or query value as they stand: garbage a decoder must survive. */
const ENCODED_GARBAGE = [
  '%00',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%FF%FE',
  '..%2F',
  '..%2F..%2Fhealthz',
  '%2e%2e%2f',
  '%252e',
  '%0d%0aX-Injected:%201',
  '%u0000',
];

// ---- requests ----

export interface RequestContext {
  resolve: Resolve;
  /** Real ids by path parameter name, so some requests reach past the lookup. */
  ids?: Record<string, readonly string[]>;
}

interface Parts {
  pathValues: Record<string, string>;
  query: [name: string, value: string][];
  body: unknown;
}

const queryText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** What `z.coerce.number()` makes of a query text, for judging a mutated numeric parameter. */
const coerced = (s: JsonSchema, text: string): unknown => (typesOf(s).some((t) => t === 'integer' || t === 'number') ? Number(text) : text);

function partsOf(op: FuzzOperation, ctx: RequestContext): fc.Arbitrary<Parts> {
  const pathValues = fc.record(
    Object.fromEntries(
      op.pathParams.map((p) => {
        const real = ctx.ids?.[p.name] ?? [];
        const made = valueOf(p.schema, ctx.resolve).map((v) => String(v));
        return [p.name, real.length > 0 ? fc.oneof(fc.constantFrom(...real), made) : made];
      }),
    ),
  );
  const query = fc
    .subarray(op.query)
    .chain((params) => fc.tuple(...params.map((p) => valueOf(p.schema, ctx.resolve).map((v): [string, string] => [p.name, queryText(v)]))));
  const body = op.body?.mediaType === 'application/json' ? valueOf(op.body.schema, ctx.resolve) : fc.constant(undefined);
  return fc.record({ pathValues, query, body });
}

const CHOICES = ['none', 'body', 'bodyWhole', 'query', 'path', 'header'] as const;

/** Headers a client may send broken (values a fetch client can send: Latin-1, no CR/LF). */
const HEADER_GARBAGE: [name: string, value: string][] = [
  ['idempotency-key', ''],
  ['idempotency-key', ' '],
  ['idempotency-key', 'k'.repeat(256)],
  ['idempotency-key', 'caf\u00e9'],
  ['idempotency-key', 'a\tb'],
  ['authorization', 'Bearer'],
  ['authorization', 'Bearer  '],
  ['authorization', 'Basic dXNlcjpwYXNz'],
  ['authorization', `Bearer pf_${'a'.repeat(4_000)}`],
  ['authorization', 'Bearer pf_\u00ff\u00fe'],
  ['authorization', 'Bearer a b c'],
  ['x-forwarded-for', 'garbage, 999.1.1.1, ::ffff:, '],
  ['x-forwarded-for', '1.2.3.4,'.repeat(500)],
  ['accept', 'text/html'],
  ['range', 'bytes=abc'],
  ['range', 'bytes=-0'],
  ['range', 'bytes=99999999999999999999-'],
  ['range', 'bytes=5-1, 0-0, 1-'],
  ['if-none-match', '"\u00ff"'],
];

/** One request to `op`: its parts of valid shape, then (mostly) one mutation. */
export function requestOf(op: FuzzOperation, ctx: RequestContext): fc.Arbitrary<FuzzRequest> {
  const where = fc.constantFrom(
    ...CHOICES.filter((c) =>
      c.startsWith('body') ? op.body : c === 'query' ? op.query.length > 0 : c === 'path' ? op.pathParams.length > 0 : true,
    ),
  );
  return fc
    .tuple(partsOf(op, ctx), where, fc.constantFrom(...VALUE_MUTATIONS), fc.nat(), fc.nat(), fc.nat())
    .map(([parts, target, kind, nodePick, pick, garbagePick]) => build(op, ctx, parts, { target, kind, nodePick, pick, garbagePick }));
}

interface Choice {
  target: (typeof CHOICES)[number];
  kind: string;
  nodePick: number;
  pick: number;
  garbagePick: number;
}

function build(op: FuzzOperation, ctx: RequestContext, parts: Parts, ch: Choice): FuzzRequest {
  const mutations: string[] = [];
  let refuse = false;

  // Path ids.
  const ids = Object.fromEntries(Object.entries(parts.pathValues).map(([k, v]) => [k, encodeLoose(v)]));
  if (ch.target === 'path') {
    const p = pickOf(op.pathParams, ch.nodePick);
    const garbage = pickOf([...ENCODED_GARBAGE, 'long', 'surrogate'], ch.garbagePick);
    const before = parts.pathValues[p.name] ?? '';
    // Long ids stay under Node's 16 KiB header limit, which answers 431 before the app sees them.
    if (garbage === 'long') ids[p.name] = 'a'.repeat(4_000);
    else if (garbage === 'surrogate') ids[p.name] = encodeLoose(insertInto(before, pickOf(SURROGATES, ch.pick)));
    else ids[p.name] = spliceEncoded(before, garbage);
    // A lone surrogate travels as WTF-8 bytes no decoder takes: the id arrives still encoded.
    refuse = garbage === '%00' || garbage === 'long';
    mutations.push(`path ${p.name} ${garbage}`);
  }
  let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? 'x');

  // Query.
  let pairs = parts.query.map(([k, v]) => [encodeLoose(k), encodeLoose(v)]);
  if (ch.target === 'query') {
    const p = pickOf(op.query, ch.nodePick);
    const current = parts.query.find(([k]) => k === p.name)?.[1] ?? '';
    const others = pairs.filter(([k]) => k !== p.name);
    const shape = ch.pick % 6;
    if (shape === 0) {
      // Duplicate parameter: which one wins is the server's choice, but never a 500.
      pairs = [...others, [p.name, encodeLoose(current)], [p.name, encodeLoose(current || 'x')]];
      mutations.push(`query ${p.name} twice`);
    } else if (shape === 1) {
      const garbage = pickOf(ENCODED_GARBAGE, ch.garbagePick);
      pairs = [...others, [p.name, spliceEncoded(current, garbage)]];
      refuse = garbage === '%00';
      mutations.push(`query ${p.name} with ${garbage}`);
    } else if (shape === 2) {
      const text = pickOf(
        ['1e308', '-0', 'NaN', 'Infinity', '18446744073709551616', '0x10', '', ' 1', '1_000', '[]', '{}', 'null', 'true'],
        ch.garbagePick,
      );
      pairs = [...others, [p.name, encodeLoose(text)]];
      refuse = definitelyRefuses(ctx.resolve(p.schema), coerced(ctx.resolve(p.schema), text));
      mutations.push(`query ${p.name}=${JSON.stringify(text)}`);
    } else if (shape === 3) {
      const value = insertInto(current, pickOf([...SURROGATES, '\u0000', ...CONTROL], ch.garbagePick));
      pairs = [...others, [p.name, encodeLoose(value)]];
      refuse = value.includes('\u0000');
      mutations.push(`query ${p.name} with ${JSON.stringify(value.slice(Math.max(0, value.length / 2 - 2)).slice(0, 4))}`);
    } else if (shape === 4) {
      const value = 'a'.repeat(8_000);
      pairs = [...others, [p.name, value]];
      refuse = definitelyRefuses(ctx.resolve(p.schema), coerced(ctx.resolve(p.schema), value));
      mutations.push(`query ${p.name} 8000 characters`);
    } else {
      pairs = [...pairs, [`${p.name}[]`, '1'], ['zz_unknown', '1'], [`${p.name}%5B0%5D`, '2']];
      mutations.push(`query array forms of ${p.name}`);
    }
  }
  if (pairs.length > 0) url += `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;

  // Body.
  let body: FuzzRequest['body'];
  if (op.body?.mediaType === 'application/json') {
    const valid = JSON.stringify(parts.body) ?? '';
    body = { text: valid, contentType: 'application/json' };
    if (ch.target === 'body') {
      const mutated = mutateJson(parts.body, op.body.schema, ctx.resolve, ch.kind, ch.nodePick, ch.pick);
      if (mutated) {
        body = { text: mutated.text, contentType: 'application/json' };
        refuse ||= mutated.refuse;
        mutations.push(`body ${mutated.name}`);
      }
    } else if (ch.target === 'bodyWhole') {
      const whole = wholeBody(op.body.required, valid, ch.pick);
      body = whole.body;
      refuse ||= whole.refuse;
      mutations.push(`body ${whole.name}`);
    }
  } else if (op.body) {
    body = { text: otherBody(ch.pick, ch.garbagePick), contentType: op.body.mediaType };
    if (ch.target === 'bodyWhole')
      body = {
        text: otherBody(ch.pick, ch.garbagePick),
        contentType: pickOf(['application/json', 'text/plain', 'multipart/form-data; boundary=x', ''], ch.nodePick),
      };
    mutations.push(`${op.body.mediaType} body`);
  }
  let headers: Record<string, string> | undefined;
  if (ch.target === 'header') {
    const [name, value] = pickOf(HEADER_GARBAGE, ch.garbagePick);
    headers = { [name]: value };
    mutations.push(`header ${name}: ${JSON.stringify(value.slice(0, 40))}`);
  }
  return {
    method: op.method,
    url,
    ...(body ? { body } : {}),
    ...(headers ? { headers } : {}),
    mutation: mutations.join('; ') || 'none (valid shape)',
    refuse,
  };
}

/** The whole JSON body replaced: absent, broken, of the wrong media type. */
const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

function wholeBody(required: boolean, valid: string, pick: number): { body?: FuzzRequest['body']; refuse: boolean; name: string } {
  const broken = [
    '{',
    '{"a":}',
    'undefined',
    "{'a':1}",
    '[1,]',
    '{"a":1}{"b":2}',
    '\u0000',
    '{"a":"\\u00"}',
    '"unterminated',
    valid.slice(0, -1),
    valid + ',',
    '\uFEFF' + valid,
  ];
  const shapes: (() => { body?: FuzzRequest['body']; refuse: boolean; name: string })[] = [
    () => ({ refuse: required, name: 'absent' }),
    () => ({ body: { text: '', contentType: 'application/json' }, refuse: required, name: 'empty, content-type JSON' }),
    () => {
      const text = pickOf(broken, Math.floor(pick / 5));
      // Refused even where the body is optional: a body sent is a body read. A BOM before valid
      // JSON is the one broken text a lenient parser may take.
      return {
        body: { text, contentType: 'application/json' },
        refuse: !parses(text) && !text.startsWith('\uFEFF'),
        name: `invalid JSON ${JSON.stringify(text.slice(0, 20))}`,
      };
    },
    () => ({
      body: {
        text: valid,
        contentType: pickOf(
          ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/jsonx'],
          pick,
        ),
      },
      refuse: false,
      name: 'JSON under another content type',
    }),
    () => ({
      body: { text: JSON.stringify(deepArray(2_000)), contentType: 'application/json' },
      refuse: required,
      name: 'nesting 2000 arrays',
    }),
    // Over the 1 MiB body limit (HTTP_BODY_LIMIT_BYTES): 413 whatever the route.
    () => ({
      body: { text: JSON.stringify({ pad: 'x'.repeat(1_100_000) }), contentType: 'application/json' },
      refuse: true,
      name: 'over the body limit',
    }),
  ];
  return pickOf(shapes, pick)();
}

/** A CSV or octet-stream body: text with NUL and control characters, invalid UTF-8, or nothing. */
function otherBody(pick: number, garbagePick: number): string | Uint8Array<ArrayBuffer> {
  const texts: (string | Uint8Array<ArrayBuffer>)[] = [
    '',
    'serial,model\nA-1,PAX-A920\n',
    'serial,model\nA\u0000B,PAX\n',
    'serial,model\n"unterminated,PAX\n',
    '\uFEFFserial;model\r\n\r\n',
    ',,,,,\n'.repeat(1_000),
    new Uint8Array([0xff, 0xfe, 0x00, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
    new Uint8Array(Array.from({ length: 256 }, (_, i) => (i * 31 + garbagePick) % 256)),
  ];
  return pickOf(texts, pick);
}
