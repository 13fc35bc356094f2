// A lookup that must find its row, answered the same way by every room.
import { notFound } from '../errors.ts';

/** The first row `query` reads (a drizzle select, awaited here), or 404 not_found for `what` (e.g. `fault flt_…`). */
export async function firstOrNotFound<R>(query: PromiseLike<readonly R[]>, what: string): Promise<R> {
  const [row] = await query;
  if (row === undefined) throw notFound(what);
  return row;
}
