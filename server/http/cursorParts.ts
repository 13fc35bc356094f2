// The pieces the lists' cursors are made of, each read back strictly: a cursor is opaque to the
// caller, so one that is not exactly what a list hands out (garbage, a cursor of another list, a
// forged number past what a column holds) is a 400 bad_cursor, never a silently different page or
// a 500 from the database.
import { badRequest } from '../errors.ts';

export const badCursor = (options?: ErrorOptions) => badRequest('bad_cursor', 'cursor is not one this API handed out', undefined, options);

export const toBase64url = (text: string) => Buffer.from(text).toString('base64url');

/** The text inside a base64url cursor; only what `toBase64url` makes is accepted (no padding, no stray characters, valid UTF-8). */
export function fromBase64url(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (text === '' || toBase64url(text) !== cursor) throw badCursor();
  return text;
}

/** A row number (bigserial) as a cursor writes it: canonical decimal, 1 to 2^53 - 1. */
export function serialNumber(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw badCursor();
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw badCursor();
  return n;
}

// Dates the API writes are this millennium's; a four-digit year also keeps the value inside what
// PostgreSQL's timestamptz and JavaScript's Date both read.
const ISO_INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

/** An instant as a cursor writes it: exactly `Date#toISOString()` of a four-digit year. */
export function isoInstant(text: string): Date {
  const at = new Date(text);
  if (!ISO_INSTANT.test(text) || Number.isNaN(at.getTime()) || at.toISOString() !== text) throw badCursor();
  return at;
}

/** An instant in epoch milliseconds as a cursor writes it (`Date#getTime()`), inside the same years. */
export function epochMillis(ms: unknown): Date {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) throw badCursor();
  const at = new Date(ms);
  if (Number.isNaN(at.getTime()) || !ISO_INSTANT.test(at.toISOString())) throw badCursor();
  return at;
}

/** A text key (an id, a serial, a hash) that must match the pattern of what the list keys on. */
export function keyMatching(text: string, pattern: RegExp): string {
  if (!pattern.test(text)) throw badCursor();
  return text;
}

/** A public id (core/ids.ts: `prefix_` and base64url) of the given prefix. */
export const publicIdPattern = (prefix: string) => new RegExp(`^${prefix}_[A-Za-z0-9_-]{1,60}$`);
