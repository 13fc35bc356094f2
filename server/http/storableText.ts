// PostgreSQL cannot store U+0000 in a text column nor, in jsonb, a lone UTF-16 surrogate (JSON
// encodes it as `\udXXX`, which jsonb refuses). Such a string that reached a query was a 500, or
// worse a change made without its audit entry; the validation layer refuses it instead, naming
// the field, for every string a request carries: path ids, query parameters, body fields and keys.
import { badRequest } from '../errors.ts';

/** A field a request may not carry, in the shape of a validation failure's details. */
export interface UnstorableField {
  path: string;
  message: string;
}

// With the `u` flag a surrogate range matches only surrogates that are not half of a pair.
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/u;

/** Why `text` cannot be stored, or undefined when it can. */
export function unstorableReason(text: string): string | undefined {
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return undefined;
  const codePoint = `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return found === '\u0000' ? `contains ${codePoint} (NUL), which cannot be stored` : `contains a lone surrogate ${codePoint}, which cannot be stored`;
}

const isPlainRecord = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Every string in `value` (strings, arrays, plain objects and their keys) that cannot be stored, by path. */
export function unstorableFields(value: unknown, path: readonly (string | number)[] = []): UnstorableField[] {
  const at = (p: readonly (string | number)[]) => p.join('.');
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    return reason ? [{ path: at(path), message: reason }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableFields(item, [...path, i]));
  if (!isPlainRecord(value)) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const keyReason = unstorableReason(key);
    const keyIssue = keyReason ? [{ path: at(path), message: `a key ${keyReason}` }] : [];
    return [...keyIssue, ...unstorableFields(item, [...path, key])];
  });
}

/** Throws `400 validation_failed` naming every field of `value` that cannot be stored. */
export function refuseUnstorable(value: unknown): void {
  const fields = unstorableFields(value);
  if (fields.length > 0) throw badRequest('validation_failed', 'request did not pass validation', fields);
}
