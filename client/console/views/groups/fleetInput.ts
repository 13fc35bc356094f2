// The pure parts of the groups & filters page: terminals typed by serial or id, and where a
// refused query went wrong (the API's query_invalid details) split around that place.
import { ApiError } from '../../../apiClient.ts';
import { idPrefixes } from '../../../../server/core/ids.ts';
import { quote } from '../../../../server/groups/query/printer.ts';
import { queryInvalidDetails, type QueryInvalidDetails } from '../../../../server/groups/query/queryError.ts';

/** Serials are looked up in one page of the device list (500), well inside an `in` list's 1000 values. */
export const MAX_REFS = 500;

const DEVICE_ID = new RegExp(`^${idPrefixes.device}_[A-Za-z0-9_-]{1,60}$`);

export interface MemberRefs {
  ids: string[];
  serials: string[];
}

/** Serials and device ids separated by commas, spaces or lines, each once; a device id is told by its prefix. */
export function parseMemberRefs(text: string): MemberRefs {
  const refs = [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
  return { ids: refs.filter((r) => DEVICE_ID.test(r)), serials: refs.filter((r) => !DEVICE_ID.test(r)) };
}

/** The fleet query that finds these serials exactly (not the prefix match of `~`). */
export const serialQuery = (serials: string[]) => `serial in (${serials.map(quote).join(', ')})`;

/** The serials no terminal answered to, in the order they were typed. */
export const unknownSerials = (asked: string[], found: { serial: string }[]) => {
  const seen = new Set(found.map((d) => d.serial));
  return asked.filter((s) => !seen.has(s));
};

export interface LocatedQueryError extends QueryInvalidDetails {
  before: string;
  /** The character at the position ('' at the end of the text: something is missing there). */
  at: string;
  after: string;
}

/** A query_invalid refusal of `query`, split around its position; null for any other error. */
export function locateQueryError(error: unknown, query: string): LocatedQueryError | null {
  if (!(error instanceof ApiError) || error.code !== 'query_invalid') return null;
  const details = queryInvalidDetails.safeParse(error.details);
  if (!details.success) return null;
  const position = Math.min(details.data.position, query.length);
  return { ...details.data, before: query.slice(0, position), at: query.slice(position, position + 1), after: query.slice(position + 1) };
}
