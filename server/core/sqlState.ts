// SQLSTATE codes the server acts on, read off an error whichever driver raised it: node-postgres
// sets `code`, the PGlite worker client maps its errors to the same codes, and drizzle wraps
// either in an error whose `cause` holds the original.

/** The SQLSTATE codes some caller handles (PostgreSQL appendix A). */
export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  /** The object is in use, e.g. a database others are still connected to. */
  objectInUse: '55006',
  /** The database could not extend a file: its disk is full. */
  diskFull: '53100',
} as const;

const SQLSTATE_SHAPE = /^[0-9A-Z]{5}$/;

/** SQLSTATE of a database error, however deeply drizzle wrapped it; undefined for other errors. */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if ('code' in e && typeof e.code === 'string' && SQLSTATE_SHAPE.test(e.code)) return e.code;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown) => sqlState(err) === SQLSTATE.uniqueViolation;
/** A referenced row is gone, e.g. a write behind for a device deleted meanwhile. */
export const isForeignKeyViolation = (err: unknown) => sqlState(err) === SQLSTATE.foreignKeyViolation;

/** Name of the constraint a database error violated, whichever driver raised it. */
export function violatedConstraint(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if ('constraint' in e && typeof e.constraint === 'string') return e.constraint;
    const named = 'message' in e && typeof e.message === 'string' ? /unique constraint "([^"]+)"/.exec(e.message) : null;
    if (named) return named[1];
  }
  return undefined;
}
