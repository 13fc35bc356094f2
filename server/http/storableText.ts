// PostgreSQL cannot store U+0000 in a text column nor, in jsonb, a lone UTF-16 surrogate (JSON
// encodes it as `\udXXX`, which jsonb refuses). Such a string that reached a query was a 500, or
// worse a change made without its audit entry; the validation layer refuses it instead, naming
// the field, for every string a request carries: path ids, query parameters, body fields and keys.
// A value nested deeper than any request needs is refused there too: JSON.stringify (storing it
// as jsonb, logging it) overflows the call stack on a few thousand levels, another 500.
import { badRequest } from '../errors.ts';

/** A field a request may not carry, in the shape of a validation failure's details. */
export interface UnstorableField {
  path: string;
  message: string;
}

// With the `u` flag a surrogate range matches only surrogates that are not half of a pair.
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/u;

/**
 * `text` with each character PostgreSQL cannot store replaced by U+FFFD: for what the server
 * writes itself out of what a client sent (the topic of a dropped message), which it cannot refuse.
 */
export const storableCopy = (text: string): string => text.replace(/\u0000|[\uD800-\uDFFF]/gu, '\uFFFD');

/** Why `text` cannot be stored, or undefined when it can. */
export function unstorableReason(text: string): string | undefined {
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return undefined;
  const codePoint = `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return found === '\u0000'
    ? `contains ${codePoint} (NUL), which cannot be stored`
    : `contains a lone surrogate ${codePoint}, which cannot be stored`;
}

/** Far deeper than any body the API takes (fault rules, among the deepest, nest 5 levels). */
export const MAX_NESTING = 32;

const isPlainRecord = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * Every string in `value` (strings, arrays, plain objects and their keys) that cannot be stored,
 * and every value nested deeper than MAX_NESTING, by path, in document order. A loop over a
 * stack, not recursion: a body nested 2,000 levels deep overflowed the call stack here (a 500).
 */
export function unstorableFields(value: unknown, path: readonly (string | number)[] = []): UnstorableField[] {
  const found: UnstorableField[] = [];
  const stack: { value: unknown; path: readonly (string | number)[]; key?: string }[] = [{ value, path }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const at = next.path.join('.');
    const keyReason = next.key === undefined ? undefined : unstorableReason(next.key);
    if (keyReason) found.push({ path: next.path.slice(0, -1).join('.'), message: `a key ${keyReason}` });
    if (typeof next.value === 'string') {
      const reason = unstorableReason(next.value);
      if (reason) found.push({ path: at, message: reason });
      continue;
    }
    const children = Array.isArray(next.value)
      ? next.value.map((item: unknown, i) => ({ value: item, path: [...next.path, i] }))
      : isPlainRecord(next.value)
        ? Object.entries(next.value).map(([key, item]) => ({ value: item, path: [...next.path, key], key }))
        : [];
    if (children.length > 0 && next.path.length - path.length >= MAX_NESTING) {
      found.push({ path: at, message: `nested deeper than ${MAX_NESTING} levels` });
      continue;
    }
    // Reversed onto the stack, so they come off in order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return found;
}

/** Throws `400 validation_failed` naming every field of `value` that cannot be stored. */
export function refuseUnstorable(value: unknown): void {
  const fields = unstorableFields(value);
  if (fields.length > 0) throw badRequest('validation_failed', 'request did not pass validation', fields);
}
