// Public ids: a prefix naming what the id is, `_`, and 96 random bits in base64url (16
// characters). Every prefix is listed here, so two kinds of record never share one.
import { randomBytes } from 'node:crypto';

export const idPrefixes = {
  device: 'dev',
  user: 'usr',
  apiToken: 'tok',
  command: 'cmd',
  commandBatch: 'bat',
  campaign: 'cmp',
  fault: 'flt',
  logBundle: 'lb',
  firmware: 'fw',
  key: 'key',
  keyRotation: 'krot',
  keyApproval: 'kapr',
  bdk: 'bdk',
  merchant: 'mer',
  binding: 'bnd',
  rebindRequest: 'rbr',
  userRequest: 'urq',
  organisation: 'org',
  deviceGroup: 'grp',
  savedFilter: 'sfl',
  maintenanceWindow: 'mw',
  parameterTemplate: 'ptpl',
  appPackage: 'app',
} as const;

export type IdPrefix = (typeof idPrefixes)[keyof typeof idPrefixes];

/** A new public id with one of the listed prefixes. */
export const newId = (prefix: IdPrefix) => `${prefix}_${randomBytes(12).toString('base64url')}`;

/**
 * `n` new ids with one prefix, from one draw of random bytes: a fleet-wide batch names 10,000
 * commands, and a call into the random source per id was most of building its rows.
 */
export function newIds(prefix: IdPrefix, n: number): string[] {
  const bytes = randomBytes(12 * n);
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) ids[i] = `${prefix}_${bytes.toString('base64url', 12 * i, 12 * i + 12)}`;
  return ids;
}
