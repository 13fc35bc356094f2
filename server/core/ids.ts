import { randomBytes } from 'node:crypto';

/** A new public id: `prefix_` and 96 random bits in base64url (16 characters). */
export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;
