// Every object id in a request path is checked against the caller's subtree, here, once, for
// every route of every module: `/v1/devices/{id}/lock`, `/v1/merchants/{id}/approve`,
// `/v1/faults/{id}/resolve`… A path naming an object of another subtree answers exactly what an
// unknown id answers (404 not_found), so nothing confirms it exists. A root caller is not checked
// (it sees everything), and neither is a request without a principal (enrollment, signed links).
import { eq, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { MiddlewareHandler } from 'hono';
import { commandBatches, devices, organisations, ROOT_ORG_PATH, users } from '../../schemas/db.ts';
import { campaigns } from '../../schemas/tables/campaigns.ts';
import { deviceGroups, savedFilters } from '../../schemas/tables/groups.ts';
import { faults, logBundles } from '../../schemas/tables/faults.ts';
import { merchants, rebindRequests } from '../../schemas/tables/merchants.ts';
import { userRequests } from '../../schemas/tables/users.ts';
import type { Db } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { AppEnv } from '../http/types.ts';
import { inScope, seesAll } from './scope.ts';

/** A public id: prefix, `_`, 16 base64url characters (server/core/ids.ts). */
const PUBLIC_ID = /^([a-z]+)_[A-Za-z0-9_-]{16}$/;

type OwnerQuery = (db: Db, id: string) => Promise<{ path: string }[]>;
const path = { path: organisations.path };
const orgOf = (column: AnyPgColumn) => eq(organisations.id, column);
const creatorPath = { path: sql<string>`coalesce(${organisations.path}, ${ROOT_ORG_PATH})` };

/** For each id prefix: the path of the node owning the object (no row: unknown id, left to the route). */
const ownerOf: Record<string, OwnerQuery> = {
  dev: (db, id) => db.select(path).from(devices).innerJoin(organisations, orgOf(devices.orgId)).where(eq(devices.id, id)).limit(1),
  mer: (db, id) => db.select(path).from(merchants).innerJoin(organisations, orgOf(merchants.orgId)).where(eq(merchants.id, id)).limit(1),
  usr: (db, id) => db.select(path).from(users).innerJoin(organisations, orgOf(users.orgId)).where(eq(users.id, id)).limit(1),
  urq: (db, id) =>
    db.select(path).from(userRequests).innerJoin(organisations, orgOf(userRequests.orgId)).where(eq(userRequests.id, id)).limit(1),
  org: (db, id) => db.select(path).from(organisations).where(eq(organisations.id, id)).limit(1),
  // Objects of a terminal belong where the terminal does.
  flt: (db, id) =>
    db
      .select(path)
      .from(faults)
      .innerJoin(devices, eq(devices.id, faults.deviceId))
      .innerJoin(organisations, orgOf(devices.orgId))
      .where(eq(faults.id, id))
      .limit(1),
  rbr: (db, id) =>
    db
      .select(path)
      .from(rebindRequests)
      .innerJoin(devices, eq(devices.id, rebindRequests.deviceId))
      .innerJoin(organisations, orgOf(devices.orgId))
      .where(eq(rebindRequests.id, id))
      .limit(1),
  lb: (db, id) =>
    db
      .select(path)
      .from(logBundles)
      .innerJoin(devices, eq(devices.id, logBundles.deviceId))
      .innerJoin(organisations, orgOf(devices.orgId))
      .where(eq(logBundles.id, id))
      .limit(1),
  grp: (db, id) => db.select(path).from(deviceGroups).innerJoin(organisations, orgOf(deviceGroups.orgId)).where(eq(deviceGroups.id, id)).limit(1),
  sfl: (db, id) => db.select(path).from(savedFilters).innerJoin(organisations, orgOf(savedFilters.orgId)).where(eq(savedFilters.id, id)).limit(1),
  // Campaigns and command batches belong to their creator's node; the server's own (no creator) to the root.
  cmp: (db, id) =>
    db
      .select(creatorPath)
      .from(campaigns)
      .leftJoin(users, eq(users.id, campaigns.createdBy))
      .leftJoin(organisations, orgOf(users.orgId))
      .where(eq(campaigns.id, id))
      .limit(1),
  bat: (db, id) =>
    db
      .select(creatorPath)
      .from(commandBatches)
      .leftJoin(users, eq(users.id, commandBatches.createdBy))
      .leftJoin(organisations, orgOf(users.orgId))
      .where(eq(commandBatches.id, id))
      .limit(1),
};

/** What the route says of an unknown id of each kind, said alike of one out of scope, so the message tells nothing either. */
const unknownAnswer: Record<string, (id: string) => string> = {
  dev: (id) => `device ${id}`,
  mer: (id) => `merchant ${id}`,
  usr: () => 'user',
  urq: (id) => `user request ${id}`,
  org: (id) => `organisation ${id}`,
  flt: (id) => `fault ${id}`,
  rbr: (id) => `rebind request ${id}`,
  lb: (id) => `log bundle ${id}`,
  grp: (id) => `group ${id}`,
  sfl: (id) => `filter ${id}`,
  bat: (id) => `command batch ${id}`,
};

/** A campaign's 404 names its kind, which its routes' base path says (campaignReads.ts). */
const campaignKinds: Record<string, string> = { rollouts: 'firmware', 'key-rotations': 'keys', 'parameter-pushes': 'parameters' };
function answerFor(prefix: string, id: string, path: string): string {
  if (prefix === 'cmp') {
    const kind = campaignKinds[path.split('/')[2] ?? ''];
    return kind ? `${kind} campaign ${id}` : `campaign ${id}`;
  }
  return unknownAnswer[prefix]?.(id) ?? id;
}

/** The id prefixes whose objects this middleware scopes (the leak test reads it). */
export const scopedIdPrefixes = Object.keys(ownerOf);

export function pathScopeMiddleware(db: Db): MiddlewareHandler<AppEnv> {
  async function ownerPath(prefix: string, id: string): Promise<string | null> {
    const query = ownerOf[prefix];
    if (!query) return null;
    const [row] = await query(db, id);
    return row ? row.path : null;
  }
  return async (c, next) => {
    const principal = c.get('principal');
    if (principal && !seesAll(principal)) {
      for (const segment of c.req.path.split('/')) {
        const match = PUBLIC_ID.exec(segment);
        const prefix = match?.[1];
        if (!prefix || !(prefix in ownerOf)) continue;
        const owner = await ownerPath(prefix, segment);
        // Unknown ids go on to the route, which answers its own 404.
        if (owner !== null && !inScope(principal, owner)) throw notFound(answerFor(prefix, segment, c.req.path));
      }
    }
    await next();
  };
}
