// The pure parts of the console's groups & filters and parameters pages, without a browser:
// terminals typed by serial or id, the exact serial query the real parser reads back, a refused
// query located where the real parser refused it, and the values box of an assignment.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/apiClient.ts';
import { locateQueryError, parseMemberRefs, serialQuery, unknownSerials } from '../../client/console/views/groups/fleetInput.ts';
import { parseValues, tierRank, tiersLowestFirst } from '../../client/console/views/parameters/precedence.ts';
import { parameterTiers } from '../../schemas/parameters.ts';
import { parseQuery } from '../../server/groups/query/parser.ts';
import { QueryError, queryInvalid } from '../../server/groups/query/queryError.ts';

/** What the API answers for a query: the AppError the route throws, as the client reads it. */
function refusalOf(query: string): ApiError {
  try {
    parseQuery(query);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    const app = queryInvalid(err);
    return new ApiError(app.status, app.code, app.message, app.details);
  }
  throw new Error(`${query} parsed`);
}

describe('terminals typed by serial or id', () => {
  it('tells device ids by their prefix and keeps each reference once, in order', () => {
    expect(parseMemberRefs(' PAX-1, dev_AbC123xyz\nPAX-2;PAX-1  dev_AbC123xyz ')).toEqual({
      ids: ['dev_AbC123xyz'],
      serials: ['PAX-1', 'PAX-2'],
    });
    expect(parseMemberRefs('dev_ dev_x+y developer')).toEqual({ ids: [], serials: ['dev_', 'dev_x+y', 'developer'] });
    expect(parseMemberRefs(' \n, ')).toEqual({ ids: [], serials: [] });
  });

  it('finds exactly the serials typed: the parser reads the query back as an `in` list of them', () => {
    const serial = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\s,;]/.test(s));
    fc.assert(
      fc.property(fc.uniqueArray(serial, { minLength: 1, maxLength: 20 }), (serials) => {
        const tree = parseQuery(serialQuery(serials));
        expect(tree.kind).toBe('in');
        if (tree.kind !== 'in') return;
        expect(tree.field).toMatchObject({ name: 'serial' });
        expect(tree.values).toEqual(serials.map((value) => ({ type: 'string', value })));
      }),
    );
  });

  it('names the serials no terminal answered to', () => {
    expect(unknownSerials(['A', 'B', 'C'], [{ serial: 'B' }])).toEqual(['A', 'C']);
    expect(unknownSerials(['A'], [{ serial: 'A' }])).toEqual([]);
  });
});

describe('a refused query located', () => {
  it('splits the text at the position the parser refused, with what it expected', () => {
    const query = 'model = "PAX-A920" and fw < 2';
    const located = locateQueryError(refusalOf(query), query);
    expect(located).toMatchObject({
      position: 28,
      expected: 'a quoted version such as "2.1.0"',
      before: 'model = "PAX-A920" and fw < ',
      at: '2',
      after: '',
    });
  });

  it('marks one character, keeping the text after it', () => {
    const query = 'fw < 20 and online';
    expect(locateQueryError(refusalOf(query), query)).toMatchObject({ position: 5, before: 'fw < ', at: '2', after: '0 and online' });
  });

  it('marks the end of the text when something is missing there', () => {
    const query = 'model = ';
    const located = locateQueryError(refusalOf(query), query);
    expect(located?.position).toBe(query.length);
    expect(located).toMatchObject({ before: query, at: '', after: '' });
  });

  it('is null for any other error, or a query_invalid without its details', () => {
    expect(locateQueryError(new ApiError(400, 'validation_failed', 'no'), 'x')).toBeNull();
    expect(locateQueryError(new ApiError(400, 'query_invalid', 'no'), 'x')).toBeNull();
    expect(locateQueryError(new Error('boom'), 'x')).toBeNull();
  });
});

describe('parameters page', () => {
  it('states the tiers in the order the server applies them', () => {
    expect(tiersLowestFirst.map((t) => t.tier)).toEqual([...parameterTiers]);
    expect(tierRank('default')).toBeLessThan(tierRank('terminal'));
    expect(tierRank('group')).toBeLessThan(tierRank('merchant'));
  });

  it('reads the values box as a JSON object, or says what it must be', () => {
    expect(parseValues('{"currency": "USD", "tips": true}')).toEqual({ values: { currency: 'USD', tips: true } });
    expect(parseValues('{')).toHaveProperty('problem');
    expect(parseValues('[1]')).toHaveProperty('problem');
    expect(parseValues('null')).toHaveProperty('problem');
  });
});
