// Which key versions are installed across the fleet, counted by the server with fleet queries
// (POST /v1/filters/preview, docs/groups-and-filters.md `keyVersion.<slot>`): the terminals with a
// key in a slot, then those at version 1, 2, … until every one of them is counted. No route lists
// versions fleet-wide, and the key export streams every key; a count per version is one query each.
import { matchPreview } from '../../../../server/groups/filterRoutes.ts';
import { api } from '../../session.ts';
import { MAX_VERSIONS, moreToCount, ROTATED_SLOTS, slotQuery } from './keyVersionRules.ts';

export { MAX_VERSIONS, ROTATED_SLOTS };

export interface VersionCount {
  slot: string;
  /** null: the terminals past MAX_VERSIONS, counted together. */
  version: number | null;
  terminals: number;
  /** The fleet query that lists these terminals. */
  query: string;
}

const count = async (query: string) => (await api.call(matchPreview, 'POST', '/v1/filters/preview', { body: { query } })).count;

export async function fleetVersionCounts(slots: readonly string[] = ROTATED_SLOTS): Promise<VersionCount[]> {
  const rows: VersionCount[] = [];
  for (const slot of slots) {
    const withKey = await count(`keyVersion.${slot} exists`);
    let counted = 0;
    for (let version = 1; moreToCount(withKey, counted, version); version++) {
      const query = slotQuery(slot, version);
      const terminals = await count(query);
      counted += terminals;
      if (terminals) rows.push({ slot, version, terminals, query });
    }
    if (counted < withKey) rows.push({ slot, version: null, terminals: withKey - counted, query: slotQuery(slot, null) });
  }
  return rows;
}
