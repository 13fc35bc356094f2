// A write refused for want of space, whichever layer raised it: a file write's errno (ENOSPC, an
// upload under DATA_DIR) or the database's SQLSTATE 53100 (PGlite or PostgreSQL could not extend
// a file). Not a bug: the request can be retried once space is freed, so it is answered as such.
import { SQLSTATE, sqlState } from './sqlState.ts';

export function isDiskFull(err: unknown): boolean {
  if (sqlState(err) === SQLSTATE.diskFull) return true;
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if ('code' in e && e.code === 'ENOSPC') return true;
  }
  return false;
}
