// The pure parts of the console's keys and merchants pages, without a browser: paging a list a
// route answers whole, the fleet-version counting plan read back by the real fleet-query parser,
// dual-control requests in words, and the new-merchant body checked with the API's own schema.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dualControlActions } from '../../schemas/tables/keys.ts';
import { describeRequest, takesComponent } from '../../client/console/views/keys/dualControlText.ts';
import { MAX_VERSIONS, moreToCount, slotQuery } from '../../client/console/views/keys/keyVersionRules.ts';
import { pageOfList } from '../../client/console/views/keys/pageOfList.ts';
import { merchantBody } from '../../client/console/views/merchants/merchantBody.ts';
import { parseQuery } from '../../server/groups/query/parser.ts';

describe('pageOfList', () => {
  it('shows every item exactly once across its pages, and says when a next page exists', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 200 }), fc.integer({ min: 1, max: 30 }), (items, size) => {
        const seen: number[] = [];
        for (let i = 0; ; i++) {
          const p = pageOfList(items, i, size);
          seen.push(...p.items);
          if (!p.hasNext) break;
        }
        expect(seen).toEqual(items);
      }),
    );
    expect(pageOfList([1, 2, 3], 1, 2)).toEqual({ items: [3], hasNext: false });
    expect(pageOfList([1, 2, 3, 4], 0, 2)).toEqual({ items: [1, 2], hasNext: true });
  });
});

describe('fleet version counts', () => {
  it('asks queries the fleet-query parser accepts, one per version and one for the newer rest', () => {
    for (const slot of ['tmk', 'tpk', 'tak', 'tdk']) {
      expect(slotQuery(slot, 2)).toBe(`keyVersion.${slot} = 2`);
      expect(slotQuery(slot, null)).toBe(`keyVersion.${slot} > ${MAX_VERSIONS}`);
      expect(() => parseQuery(slotQuery(slot, 3))).not.toThrow();
      expect(() => parseQuery(slotQuery(slot, null))).not.toThrow();
    }
  });
  it('stops once every terminal with a key is counted, or past the last version probed', () => {
    expect(moreToCount(3, 0, 1)).toBe(true);
    expect(moreToCount(3, 3, 2)).toBe(false);
    expect(moreToCount(0, 0, 1)).toBe(false);
    expect(moreToCount(5, 4, MAX_VERSIONS)).toBe(true);
    expect(moreToCount(5, 4, MAX_VERSIONS + 1)).toBe(false);
  });
});

describe('dual-control requests in words', () => {
  it('describes every action from its public params only', () => {
    for (const action of dualControlActions) expect(describeRequest({ action, params: {} }).length).toBeGreaterThan(10);
    expect(describeRequest({ action: 'keys.bulk_revoke', params: { deviceIds: ['a', 'b'], usages: ['TPK'] } })).toBe(
      'Revoke TPK keys of 2 terminal(s) and zeroize them.',
    );
    expect(describeRequest({ action: 'bdk.generate', params: { name: 'acq', scheme: 'aes128' } })).toBe(
      'A new BDK “acq” (aes128) generated in the vault.',
    );
    expect(describeRequest({ action: 'master_key.import', params: { component1Kcv: 'cmac:ABCDEF' } })).toContain('cmac:ABCDEF');
  });
  it('asks for key component 2 only when approving an import', () => {
    expect(dualControlActions.filter(takesComponent)).toEqual(['master_key.import', 'bdk.import']);
  });
});

describe('merchantBody', () => {
  const filled = {
    name: 'Librairie Voltaire',
    mid: ' 200000000000001 ',
    mcc: '5812',
    address: '2 Quai Voltaire',
    lat: '48.8584',
    lon: '2.3324',
    radiusM: '300',
    timezone: 'Europe/Paris',
    businessLicenceNo: 'BL-1',
    taxId: 'TX-1',
    kind: 'single',
  };
  it('makes the API body with numbers as numbers', () => {
    const r = merchantBody(filled);
    expect(r.success).toBe(true);
    expect(r.data).toMatchObject({ mid: '200000000000001', location: { lat: 48.8584, lon: 2.3324 }, radiusM: 300, kind: 'single' });
  });
  it('names the wrong field as the API would', () => {
    const short = merchantBody({ ...filled, mid: '12345' });
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]).toMatchObject({ path: ['mid'], message: '15 digits' });
    const noLat = merchantBody({ ...filled, lat: '' });
    expect(noLat.error?.issues[0]?.path).toEqual(['location', 'lat']);
    expect(merchantBody({ ...filled, timezone: 'Mars/Olympus' }).error?.issues[0]?.path).toEqual(['timezone']);
  });
});
