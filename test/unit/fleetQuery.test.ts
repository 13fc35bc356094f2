// The fleet query language without a database: the canonical printer and the parser are inverse
// (fast-check over random trees), errors name where and what, and the evaluator's rules (versions
// by segment, missing values false, lastSeen counted back from now, geo predicates).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateQuery, type DeviceSnapshot } from '../../server/groups/query/evaluator.ts';
import { inPolygon } from '../../server/groups/query/geo.ts';
import { parseQuery } from '../../server/groups/query/parser.ts';
import { printQuery } from '../../server/groups/query/printer.ts';
import { QueryError } from '../../server/groups/query/queryError.ts';
import { compareVersions, versionSegments } from '../../server/groups/query/versions.ts';
import { queryArb, wideDomain, withoutSpans } from '../groups/queryArbitraries.ts';

function refusal(src: string): { position: number; expected: string } {
  try {
    parseQuery(src);
  } catch (err) {
    if (err instanceof QueryError) return { position: err.position, expected: err.expected };
    throw err;
  }
  throw new Error(`${src} parsed`);
}

const now = new Date('2026-12-04T12:00:00Z');
const device = (over: Partial<DeviceSnapshot> = {}): DeviceSnapshot => ({
  id: 'dev_1',
  serial: 'PAX-0001',
  model: 'A920',
  fwVersion: '2.0.9',
  merchantId: 'mer_1',
  mcc: '5411',
  orgPath: '/org_root/org_a/',
  labels: { region: 'north' },
  online: true,
  lastSeenAt: new Date(now.getTime() - 3 * 86_400_000),
  openFaults: ['battery_low'],
  keyVersions: { tmk: 3 },
  location: { lat: 52.37, lon: 4.9 },
  apps: {},
  ...over,
});

describe('fleet query: printer and parser', () => {
  it('parses what it prints back to the same tree, and prints that the same way', () => {
    fc.assert(
      fc.property(queryArb(wideDomain), (tree) => {
        const text = printQuery(tree);
        const again = parseQuery(text);
        expect(withoutSpans(again)).toEqual(withoutSpans(tree));
        expect(printQuery(again)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the example of the issue, and gives each node the span it was written at', () => {
    const src =
      'model = "A920" and fw < "2.1.0" and label.region in ("north","south") and online and not fault = "battery_low" and lastSeen < 7d and within(52.37, 4.89, 10km)';
    const tree = parseQuery(src);
    expect(printQuery(tree)).toBe(src.replace('("north","south")', '("north", "south")'));
    expect(tree.span).toEqual({ start: 0, end: src.length });
    const where = (n: typeof tree): string => src.slice(n.span.start, n.span.end);
    if (tree.kind !== 'and') throw new Error('an and');
    expect(where(tree.right)).toBe('within(52.37, 4.89, 10km)');
  });

  it('keeps and/or/not precedence and parentheses', () => {
    expect(printQuery(parseQuery('online or model = "a" and not (fault = "x" or fault = "y")'))).toBe(
      'online or model = "a" and not (fault = "x" or fault = "y")',
    );
    expect(printQuery(parseQuery('(online or model = "a") and serial ~ "P"'))).toBe('(online or model = "a") and serial ~ "P"');
    expect(printQuery(parseQuery('online and (online and online)'))).toBe('online and (online and online)');
    expect(printQuery(parseQuery('label."store name" = "say \\"hi\\""'))).toBe('label."store name" = "say \\"hi\\""');
  });

  it('reads app.<package> with a dotted package name, and exists after a keyed field', () => {
    const tree = parseQuery('app.com.posfleet.pay >= "1.2.0" and not label.region exists');
    expect(withoutSpans(tree)).toEqual({
      kind: 'and',
      left: { kind: 'compare', field: { name: 'app', key: 'com.posfleet.pay' }, op: '>=', value: { type: 'string', value: '1.2.0' } },
      right: { kind: 'not', expr: { kind: 'exists', field: { name: 'label', key: 'region' } } },
    });
    expect(printQuery(tree)).toBe('app.com.posfleet.pay >= "1.2.0" and not label.region exists');
    expect(printQuery(parseQuery('app."com.posfleet.pay" exists'))).toBe('app.com.posfleet.pay exists');
    expect(printQuery(parseQuery('app."com.9x.pay" in ("1.0.0", "1.1")'))).toBe('app."com.9x.pay" in ("1.0.0", "1.1")');
    const exists = parseQuery('online and keyVersion.tmk exists');
    if (exists.kind !== 'and') throw new Error('an and');
    expect(exists.right.span).toEqual({ start: 11, end: 32 });
  });

  it('says where a query goes wrong and what it expected there', () => {
    expect(refusal('app.com.posfleet.pay >= "1.2.0-rc1"')).toEqual({ position: 24, expected: expect.stringContaining('dotted numbers') });
    expect(refusal('app.com. = "1"')).toEqual({ position: 7, expected: expect.stringContaining('"exists"') });
    expect(refusal('fw exists')).toEqual({ position: 3, expected: expect.stringContaining('"exists" follows') });
    expect(refusal(`app.${'a.'.repeat(64)}b exists`)).toEqual({ position: 4, expected: expect.stringContaining('1 to 128') });
    expect(refusal(`label.${'a.'.repeat(32)}b exists`)).toEqual({ position: 6, expected: expect.stringContaining('1 to 64') });
    expect(refusal('fw < 2')).toEqual({ position: 5, expected: expect.stringContaining('version') });
    expect(refusal('model = "A" and')).toEqual({ position: 15, expected: expect.stringContaining('a condition') });
    expect(refusal('model == "A"')).toEqual({ position: 7, expected: expect.stringContaining('quoted string') });
    expect(refusal('colour = "red"')).toEqual({ position: 0, expected: expect.stringContaining('a field') });
    expect(refusal('lastSeen = 7d')).toEqual({ position: 9, expected: expect.stringContaining('"<"') });
    expect(refusal('lastSeen < 7y')).toEqual({ position: 11, expected: expect.stringContaining('duration') });
    expect(refusal('online = true')).toEqual({ position: 7, expected: expect.stringContaining('flag') });
    expect(refusal('(online')).toEqual({ position: 7, expected: expect.stringContaining('")"') });
    expect(refusal('model = "open')).toEqual({ position: 13, expected: expect.stringContaining('closing "') });
    expect(refusal('within(95, 4, 1km)')).toEqual({ position: 7, expected: expect.stringContaining('latitude') });
    expect(refusal('bbox(53, 4, 52, 5)')).toEqual({ position: 12, expected: expect.stringContaining('north latitude') });
    expect(refusal('polygon((1, 2), (3, 4))')).toEqual({ position: 22, expected: 'at least 3 points' });
    expect(refusal('keyVersion.tmk >= -1')).toEqual({ position: 18, expected: expect.stringContaining('whole number') });
    expect(refusal('fault != "x"')).toEqual({ position: 6, expected: expect.stringContaining('"="') });
    expect(refusal('online online')).toEqual({ position: 7, expected: expect.stringContaining('"and"') });
    expect(refusal('model = "a" ; drop')).toEqual({ position: 12, expected: expect.any(String) });
    expect(refusal('not '.repeat(100) + 'online').expected).toContain('nesting');
  });
});

describe('fleet query: evaluator', () => {
  const matches = (q: string, d: DeviceSnapshot = device()) => evaluateQuery(parseQuery(q), d, now);

  it('compares versions by segment, and text prefixes with ~', () => {
    expect(versionSegments('2.10.0')).toEqual([2n, 10n, 0n]);
    expect(compareVersions([2n, 10n], [2n, 9n, 9n])).toBe(1);
    expect(compareVersions([2n, 1n], [2n, 1n, 0n])).toBe(-1);
    expect(matches('fw < "2.1.0"')).toBe(true);
    expect(matches('fw > "2.0.9"', device({ fwVersion: '2.0.10' }))).toBe(true);
    expect(matches('fw > "2.0.9"', device({ fwVersion: '2.0.8' }))).toBe(false);
    expect(matches('fw >= "2.0.9" and fw ~ "2.0."')).toBe(true);
    expect(matches('fw < "9"', device({ fwVersion: '2.0.9-beta' }))).toBe(false);
  });

  it('compares app versions by segment, and tells an installed app from a missing one', () => {
    const pay = (version: string) => device({ apps: { 'com.posfleet.pay': version } });
    expect(matches('app.com.posfleet.pay > "1.9.0"', pay('1.10.0'))).toBe(true);
    expect(matches('app.com.posfleet.pay < "1.9.0"', pay('1.10.0'))).toBe(false);
    expect(matches('app.com.posfleet.pay = "1.0.0" and app.com.posfleet.pay exists', pay('1.0.0'))).toBe(true);
    expect(matches('app.com.posfleet.pay >= "0"', pay('1.2.0-rc1'))).toBe(false);
    expect(matches('app.com.posfleet.pay ~ "1.2.0-"', pay('1.2.0-rc1'))).toBe(true);
    for (const q of ['app.com.posfleet.pay != "9.9.9"', 'app.com.posfleet.pay exists', 'app.com.acme.emv exists'])
      expect([q, matches(q)]).toEqual([q, false]);
    expect(matches('not app.com.posfleet.pay exists and label.region exists and keyVersion.tmk exists and not keyVersion.pek exists')).toBe(
      true,
    );
  });

  it('makes a comparison on a missing value false, and its negation true', () => {
    const bare = device({ fwVersion: null, merchantId: null, mcc: null, location: null, lastSeenAt: null, labels: {} });
    for (const q of [
      'fw < "3"',
      'fw != "3"',
      'merchant != "m"',
      'mcc = "5411"',
      'label.region != "x"',
      'lastSeen > 1d',
      'within(52.37, 4.9, 100km)',
    ])
      expect([q, matches(q, bare)]).toEqual([q, false]);
    expect(matches('not fw != "3"', bare)).toBe(true);
  });

  it('counts lastSeen back from now, and reads faults, keys, org subtrees and places', () => {
    expect(matches('lastSeen < 7d and lastSeen > 2d and lastSeen >= 72h')).toBe(true);
    expect(matches('fault = "battery_low" and not fault = "paper_out" and fault ~ "battery"')).toBe(true);
    expect(matches('keyVersion.tmk >= 3 and not keyVersion.pek = 0')).toBe(true);
    expect(matches('org = "org_a" and org != "org_b" and not org = "org_ab"')).toBe(true);
    expect(matches('serial ~ "PAX" and not serial ~ "0001" and model ~ "92"')).toBe(true);
    expect(matches('within(52.37, 4.89, 1km) and not within(52.37, 4.89, 500m)')).toBe(true);
    expect(matches('bbox(52, 4, 53, 5) and bbox(52, 170, 53, 5) and not bbox(52, 5, 53, 170)')).toBe(true);
    expect(
      inPolygon({ lat: 1, lon: 1 }, [
        { lat: 0, lon: 0 },
        { lat: 0, lon: 2 },
        { lat: 2, lon: 2 },
        { lat: 2, lon: 0 },
      ]),
    ).toBe(true);
    // A self-crossing star counts its middle in (nonzero winding, as PostgreSQL's polygon @> point).
    const star = [0, 2, 4, 1, 3].map((k) => ({ lat: Math.sin((k * 2 * Math.PI) / 5), lon: Math.cos((k * 2 * Math.PI) / 5) }));
    expect(inPolygon({ lat: 0, lon: 0 }, star)).toBe(true);
  });
});
