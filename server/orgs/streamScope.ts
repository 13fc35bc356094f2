// What a caller of GET /v1/stream may see of the live events: those of terminals of its subtree,
// and campaign states of campaigns its subtree made (the campaign lists' rule). Events are
// judged as they are written, in order, so a non-root subscriber never receives another
// subtree's; a root subscriber is not checked. The owner of a terminal or campaign is read from
// the database and kept a few seconds: allocation moves terminals, so it is read again soon.
import { eq, sql } from 'drizzle-orm';
import { devices, organisations, ROOT_ORG_PATH, users } from '../../schemas/db.ts';
import { campaigns } from '../../schemas/tables/campaigns.ts';
import type { Db } from '../db/database.ts';
import { inScope, seesAll, type OrgScope } from './scope.ts';

/** How long an owner read stays good: a terminal moved reaches its new subtree's streams this late at most. */
export const OWNER_TTL_MS = 5_000;

/** Who owns an event: a terminal (`deviceId`), else a campaign (`campaign.updated`'s `id`); neither: nobody's. */
export type EventOwner = { device: string } | { campaign: string } | null;

const field = (data: unknown, key: string): string | undefined => {
  if (typeof data !== 'object' || data === null || !(key in data)) return undefined;
  const value: unknown = Reflect.get(data, key);
  return typeof value === 'string' ? value : undefined;
};

/** Pure: the object an event is about, by its payload (server/events/eventBus.ts's LiveEvents). */
export function eventOwner(name: string, data: unknown): EventOwner {
  const device = field(data, 'deviceId');
  if (device) return { device };
  const campaign = name.startsWith('campaign.') ? field(data, 'id') : undefined;
  return campaign ? { campaign } : null;
}

export interface StreamScope {
  /** May `principal` receive this event? An event of no terminal and no campaign is fleet-wide: the root's only. */
  visible(principal: OrgScope, name: string, data: unknown): Promise<boolean>;
}

export function createStreamScope(db: Db, now: () => number = Date.now): StreamScope {
  const cache = new Map<string, { path: string | null; at: number }>();
  async function read(key: string, query: () => Promise<{ path: string | null }[]>): Promise<string | null> {
    const hit = cache.get(key);
    if (hit && now() - hit.at < OWNER_TTL_MS) return hit.path;
    const [row] = await query();
    const path = row?.path ?? null;
    if (cache.size > 50_000) cache.clear();
    cache.set(key, { path, at: now() });
    return path;
  }
  const devicePath = (id: string) =>
    read(`d:${id}`, () =>
      db.select({ path: organisations.path }).from(devices).innerJoin(organisations, eq(organisations.id, devices.orgId)).where(eq(devices.id, id)).limit(1),
    );
  // A campaign belongs to its creator's node; the server's own, or a gone creator's, to the root.
  const campaignPath = (id: string) =>
    read(`c:${id}`, () =>
      db
        .select({ path: sql<string>`coalesce(${organisations.path}, ${ROOT_ORG_PATH})` })
        .from(campaigns)
        .leftJoin(users, eq(users.id, campaigns.createdBy))
        .leftJoin(organisations, eq(organisations.id, users.orgId))
        .where(eq(campaigns.id, id))
        .limit(1),
    );
  return {
    async visible(principal, name, data) {
      if (seesAll(principal)) return true;
      const owner = eventOwner(name, data);
      if (!owner) return false;
      const path = 'device' in owner ? await devicePath(owner.device) : await campaignPath(owner.campaign);
      return path !== null && inScope(principal, path);
    },
  };
}
