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
  merchant: 'mer',
  binding: 'bnd',
  rebindRequest: 'rbr',
  userRequest: 'urq',
} as const;

export type IdPrefix = (typeof idPrefixes)[keyof typeof idPrefixes];

/** A new public id with one of the listed prefixes. */
export const newId = (prefix: IdPrefix) => `${prefix}_${randomBytes(12).toString('base64url')}`;
