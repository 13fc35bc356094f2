// fast-check arbitraries for requests to one operation of /openapi.json: path ids, query and body
// of the shapes its schemas describe, then (mostly) one mutation the way a hostile or broken
// client would send it. Each request says whether it must be refused (`refuse`).
import fc from 'fast-check';
import type { FuzzOperation, Resolve } from './document.ts';
import { bodyOf } from './bodies.ts';
import { CHOICES, type Choice, type FuzzRequest, type Parts } from './fuzzRequest.ts';
import { brokenHeader } from './headers.ts';
import { VALUE_MUTATIONS } from './jsonMutations.ts';
import { pathOf, queryOf } from './urlMutations.ts';
import { valueOf } from './values.ts';

export interface RequestContext {
  resolve: Resolve;
  /** Real ids by path parameter name, so some requests reach past the lookup. */
  ids?: Record<string, readonly string[]>;
}

const queryText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

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

function build(op: FuzzOperation, ctx: RequestContext, parts: Parts, ch: Choice): FuzzRequest {
  const path = pathOf(op, parts.pathValues, ch);
  const query = queryOf(op, ctx.resolve, parts.query, ch);
  const body = bodyOf(op, ctx.resolve, parts.body, ch);
  const header = ch.target === 'header' ? brokenHeader(ch.garbagePick) : undefined;
  const mutations = [path.mutation, query.mutation, body.mutation, header?.mutation].filter((m) => m !== undefined);
  return {
    method: op.method,
    url: path.path + query.search,
    ...(body.body ? { body: body.body } : {}),
    ...(header ? { headers: header.headers } : {}),
    mutation: mutations.join('; ') || 'none (valid shape)',
    // One part at most is broken, so at most one of these can be true.
    refuse: path.refuse || query.refuse || body.refuse,
  };
}
