// Which instance leads a campaign, as PostgreSQL itself says (the campaign's lease is a session
// advisory lock whose session names its instance): read on a connection of the test's own.
import pg from 'pg';
import { campaignLease } from '../../../server/campaigns/campaignLeadership.ts';
import { HOLDER_SQL, LEASE_SPACE, instanceOfApp } from '../../../server/cluster/leases.ts';

export interface LeaderReader {
  /** The instance id leading campaign `id` now, or null when nobody does. */
  of(id: string): Promise<string | null>;
  close(): Promise<void>;
}

export async function leaderReader(databaseUrl: string): Promise<LeaderReader> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  return {
    async of(id) {
      const r = await db.query<{ app: string }>(HOLDER_SQL, [LEASE_SPACE, campaignLease(id)]);
      return instanceOfApp(r.rows[0]?.app);
    },
    close: () => db.end(),
  };
}
