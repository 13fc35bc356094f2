// Query text → syntax tree (schemas/fleetQuery.ts), by recursive descent over the grammar in
// docs/groups-and-filters.md. Every refusal is a QueryError naming the offset and what would have
// been understood there; fields, operators and value types are checked here (fields.ts), so the
// compiler and the evaluator never meet a comparison without meaning.
import {
  durationUnits,
  distanceUnits,
  type CompareOp,
  type DistanceUnit,
  type DurationUnit,
  type FieldRef,
  type KeyedField,
  type LatLon,
  type Literal,
  type QueryNode,
} from '../../../schemas/fleetQuery.ts';
import { isKeyedField, isPlainField, specOf, VERSION_PATTERN, type FieldSpec } from './fields.ts';
import { tokenize, type Token } from './lexer.ts';
import { QueryError } from './queryError.ts';

/** Deeper nesting than this is refused: no query an operator writes needs it, and the stack is finite. */
const MAX_DEPTH = 64;
const MAX_IN_VALUES = 1000;
const MAX_POLYGON_POINTS = 1000;
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'exists', 'within', 'bbox', 'polygon']);
/** Label keys and key slots are at most 64 characters (as at registration), app names as long as a package name may be. */
const MAX_KEY_LENGTH: Readonly<Record<KeyedField, number>> = { label: 64, keyVersion: 64, app: 128 };
const FIELD_NAMES =
  'serial, model, fw, app.<name>, merchant, mcc, org, label.<key>, online, lastSeen, fault, keyVersion.<slot>, within(…), bbox(…) or polygon(…)';

const isDurationUnit = (u: string): u is DurationUnit => (durationUnits as readonly string[]).includes(u);
const isDistanceUnit = (u: string): u is DistanceUnit => (distanceUnits as readonly string[]).includes(u);

export function parseQuery(src: string): QueryNode {
  const tokens = tokenize(src);
  let at = 0;
  let depth = 0;
  const peek = (): Token => tokens[at]!;
  const next = (): Token => tokens[at++]!;
  const isWord = (t: Token, word: string) => t.kind === 'ident' && t.text === word;
  const isPunct = (t: Token, p: string) => t.kind === 'punct' && t.text === p;

  function expectPunct(p: '(' | ')' | ',' | '.', what = `"${p}"`): Token {
    const t = next();
    if (!isPunct(t, p)) throw new QueryError(t.start, what);
    return t;
  }

  function number(what: string, min: number, max: number): number {
    const t = next();
    if (t.kind !== 'number' || t.value < min || t.value > max) throw new QueryError(t.start, `${what} (a number from ${min} to ${max})`);
    return t.value;
  }

  function orExpr(): QueryNode {
    let left = andExpr();
    while (isWord(peek(), 'or')) {
      next();
      const right = andExpr();
      left = { kind: 'or', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    return left;
  }

  function andExpr(): QueryNode {
    let left = unary();
    while (isWord(peek(), 'and')) {
      next();
      const right = unary();
      left = { kind: 'and', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    return left;
  }

  function unary(): QueryNode {
    const t = peek();
    if (++depth > MAX_DEPTH) throw new QueryError(t.start, `at most ${MAX_DEPTH} levels of nesting`);
    try {
      if (isWord(t, 'not')) {
        next();
        const expr = unary();
        return { kind: 'not', expr, span: { start: t.start, end: expr.span.end } };
      }
      return primary();
    } finally {
      depth--;
    }
  }

  function primary(): QueryNode {
    const t = peek();
    if (isPunct(t, '(')) {
      next();
      const inner = orExpr();
      expectPunct(')', '")" or "and"/"or"');
      return inner;
    }
    if (t.kind !== 'ident') throw new QueryError(t.start, `a condition: ${FIELD_NAMES}, "not" or "("`);
    if (t.text === 'within') return within();
    if (t.text === 'bbox') return bbox();
    if (t.text === 'polygon') return polygon();
    if (t.text === 'online') {
      next();
      const after = peek();
      if (after.kind === 'op') throw new QueryError(after.start, '"online" alone: online is a flag (write "online" or "not online")');
      return { kind: 'online', span: { start: t.start, end: t.end } };
    }
    return predicate();
  }

  /** A bare key may be dotted (`app.com.posfleet.pay`): nothing else follows a field with a ".". */
  function dottedName(first: Extract<Token, { kind: 'ident' }>): string {
    let name = first.text;
    while (isPunct(peek(), '.')) {
      const part = tokens[at + 1]!; // a "." is never last: the end token follows
      if (part.kind !== 'ident') break;
      at += 2;
      name += '.' + part.text;
    }
    return name;
  }

  function field(): { ref: FieldRef; start: number } {
    const t = next();
    if (t.kind !== 'ident' || KEYWORDS.has(t.text)) throw new QueryError(t.start, `a field: ${FIELD_NAMES}`);
    if (isKeyedField(t.text)) {
      expectPunct('.', `"." and a ${t.text === 'label' ? 'label key' : t.text === 'app' ? 'app name' : 'key slot'} after ${t.text}`);
      const k = next();
      const max = MAX_KEY_LENGTH[t.text];
      const key = k.kind === 'ident' ? dottedName(k) : k.kind === 'string' ? k.value : undefined;
      if (key !== undefined && key.length >= 1 && key.length <= max) return { ref: { name: t.text, key }, start: t.start };
      throw new QueryError(k.start, `a ${t.text} key: a name or a quoted string of 1 to ${max} characters`);
    }
    if (!isPlainField(t.text)) throw new QueryError(t.start, `a field: ${FIELD_NAMES}`);
    return { ref: { name: t.text }, start: t.start };
  }

  function literal(spec: FieldSpec, op: CompareOp | 'in'): { value: Literal; end: number } {
    const t = next();
    const fail = (what: string): never => {
      throw new QueryError(t.start, what);
    };
    switch (spec.valueType) {
      case 'string':
        if (t.kind !== 'string') fail('a quoted string value');
        break;
      case 'version':
        if (t.kind !== 'string') fail('a quoted version such as "2.1.0"');
        if (t.kind === 'string' && op !== '~' && !VERSION_PATTERN.test(t.value))
          fail('a version of dotted numbers such as "2.1.0" (~ takes any text prefix)');
        break;
      case 'integer':
        if (t.kind !== 'number' || !Number.isSafeInteger(t.value) || t.value < 0) fail('a whole number ≥ 0');
        break;
      case 'duration':
        if (t.kind !== 'quantity' || !isDurationUnit(t.unit) || !Number.isSafeInteger(t.amount) || t.amount < 0)
          fail('a duration: a whole number with s, m, h, d or w (7d)');
        break;
    }
    if (t.kind === 'string') {
      if (t.value.length > 256) fail('a value of at most 256 characters');
      return { value: { type: 'string', value: t.value }, end: t.end };
    }
    if (t.kind === 'number') return { value: { type: 'number', value: t.value }, end: t.end };
    if (t.kind === 'quantity' && isDurationUnit(t.unit)) return { value: { type: 'duration', amount: t.amount, unit: t.unit }, end: t.end };
    return fail('a value');
  }

  function predicate(): QueryNode {
    const { ref, start } = field();
    const spec = specOf(ref);
    const t = next();
    if (isWord(t, 'exists')) {
      if (!('key' in ref))
        throw new QueryError(t.start, `an operator for ${ref.name} ("exists" follows label.<key>, app.<name> or keyVersion.<slot>)`);
      return { kind: 'exists', field: ref, span: { start, end: t.end } };
    }
    if (isWord(t, 'in')) {
      if (!spec.in) throw new QueryError(t.start, `one of ${spec.ops.join(' ')} (${ref.name} takes no "in")`);
      expectPunct('(', '"(" opening the list of values');
      const values: Literal[] = [];
      for (;;) {
        values.push(literal(spec, 'in').value);
        if (values.length > MAX_IN_VALUES) throw new QueryError(peek().start, `at most ${MAX_IN_VALUES} values`);
        const sep = next();
        if (isPunct(sep, ')')) return { kind: 'in', field: ref, values, span: { start, end: sep.end } };
        if (!isPunct(sep, ',')) throw new QueryError(sep.start, '"," or ")"');
      }
    }
    if (t.kind !== 'op' || !spec.ops.includes(t.text)) {
      const ops = spec.ops.map((o) => `"${o}"`).join(', ');
      throw new QueryError(t.start, `an operator for ${ref.name}: ${ops}${spec.in ? ' or "in"' : ''}${'key' in ref ? ' or "exists"' : ''}`);
    }
    const { value, end } = literal(spec, t.text);
    return { kind: 'compare', field: ref, op: t.text, value, span: { start, end } };
  }

  function point(): LatLon {
    const lat = number('a latitude', -90, 90);
    expectPunct(',');
    const lon = number('a longitude', -180, 180);
    return { lat, lon };
  }

  function within(): QueryNode {
    const start = next().start;
    expectPunct('(');
    const center = point();
    expectPunct(',');
    const r = next();
    if (r.kind !== 'quantity' || !isDistanceUnit(r.unit) || !(r.amount > 0)) throw new QueryError(r.start, 'a radius with m or km (10km)');
    const end = expectPunct(')').end;
    return { kind: 'within', center, radius: { amount: r.amount, unit: r.unit }, span: { start, end } };
  }

  function bbox(): QueryNode {
    const start = next().start;
    expectPunct('(');
    const south = number('the south latitude', -90, 90);
    expectPunct(',');
    const west = number('the west longitude', -180, 180);
    expectPunct(',');
    const northAt = peek().start;
    const north = number('the north latitude', -90, 90);
    if (north < south) throw new QueryError(northAt, `a north latitude ≥ the south one (${south})`);
    expectPunct(',');
    const east = number('the east longitude', -180, 180);
    const end = expectPunct(')').end;
    return { kind: 'bbox', south, west, north, east, span: { start, end } };
  }

  function polygon(): QueryNode {
    const start = next().start;
    expectPunct('(');
    const points: LatLon[] = [];
    for (;;) {
      expectPunct('(', '"(" opening a (lat, lon) point');
      points.push(point());
      expectPunct(')');
      if (points.length > MAX_POLYGON_POINTS) throw new QueryError(peek().start, `at most ${MAX_POLYGON_POINTS} points`);
      const sep = next();
      if (isPunct(sep, ',')) continue;
      if (!isPunct(sep, ')')) throw new QueryError(sep.start, '"," or ")"');
      if (points.length < 3) throw new QueryError(sep.start, 'at least 3 points');
      return { kind: 'polygon', points, span: { start, end: sep.end } };
    }
  }

  const tree = orExpr();
  const rest = peek();
  if (rest.kind !== 'end') throw new QueryError(rest.start, '"and", "or" or the end of the query');
  return tree;
}
