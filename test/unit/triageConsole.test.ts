// The console triage pages' pure parts, without a browser: the device list's open-fault filter as
// a fleet query the real parser reads, the fault queue's address round trip, and the bulk runner
// keeping every outcome with the refusal's code and summarising it.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/apiClient.ts';
import { faultQuery } from '../../client/console/views/deviceFaultFilter.ts';
import { bulkSummary, runBulk } from '../../client/console/views/faults/bulkTriage.ts';
import { faultsUrl, filtersFromQuery } from '../../client/console/views/faults/faultView.ts';
import { parseQuery } from '../../server/groups/query/parser.ts';

describe('device list open-fault filter', () => {
  it('says any fault, one code, or their absence in the fleet query language', () => {
    expect(faultQuery('', undefined)).toBeUndefined();
    expect(faultQuery('', '  ')).toBeUndefined();
    expect(faultQuery('with', undefined)).toBe('fault ~ ""');
    expect(faultQuery('without', '')).toBe('not fault ~ ""');
    expect(faultQuery('', 'paper_out')).toBe('fault = "paper_out"');
    expect(faultQuery('with', ' overheat ')).toBe('fault = "overheat"');
    expect(faultQuery('without', 'overheat')).toBe('not fault = "overheat"');
  });

  it('writes queries the server parses, a code with a quote in it included', () => {
    for (const q of [faultQuery('with', undefined), faultQuery('without', 'a"b'), faultQuery('', 'x\\y')]) {
      expect(q).toBeDefined();
      expect(() => parseQuery(q ?? '')).not.toThrow();
    }
  });
});

describe('fault queue address', () => {
  it('keeps the filters and a non-default order, and reads them back', () => {
    const url = faultsUrl({ state: 'all', serial: ' triage-1 ', model: '' }, 'oldest');
    expect(url).toBe('/ui/faults?state=all&serial=triage-1&sort=oldest');
    expect(filtersFromQuery(new URL(url, 'http://x').searchParams)).toEqual({ state: 'all', serial: 'triage-1' });
    expect(faultsUrl({}, 'severity')).toBe('/ui/faults');
  });
});

describe('bulk triage', () => {
  it('runs every item, a few at a time, and keeps each refusal with its code', async () => {
    let running = 0;
    let most = 0;
    const items = Array.from({ length: 10 }, (_, i) => i);
    const outcome = await runBulk(items, async (i) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      if (i % 3 === 0) throw new ApiError(409, 'already_acknowledged', `fault ${i} is already acknowledged`);
      if (i === 5) throw new Error('fetch failed');
    });
    expect(most).toBe(4);
    expect(outcome.done.sort((a, b) => a - b)).toEqual([1, 2, 4, 7, 8]);
    expect(outcome.failed.map((f) => [f.item, f.code]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [0, 'already_acknowledged'],
      [3, 'already_acknowledged'],
      [5, 'network_error'],
      [6, 'already_acknowledged'],
      [9, 'already_acknowledged'],
    ]);
    expect(bulkSummary('Acknowledged', outcome)).toBe(
      'Acknowledged 5 of 10 faults; 5 refused (already_acknowledged ×4, network_error ×1).',
    );
  });

  it('summarises a clean run and a single fault', async () => {
    expect(bulkSummary('Resolved', await runBulk([1, 2], async () => undefined))).toBe('Resolved 2 of 2 faults.');
    expect(bulkSummary('Resolved', await runBulk(['x'], async () => undefined))).toBe('Resolved 1 of 1 fault.');
  });
});
