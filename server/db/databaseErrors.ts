// Why PostgreSQL could not be opened at start, in one line an operator can act on: the driver's
// own error is "Failed query: CREATE SCHEMA …" (drizzle's wrapper around the first migration)
// with the reason buried in its cause.
import { sqlState } from '../core/sqlState.ts';

/** PostgreSQL refused or could not be reached at start; the message says why, without a stack. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Where a postgres:// URL points, as `host:port` with PostgreSQL's defaults filled in. */
export function databaseTarget(url: string): { address: string; database: string; user: string } {
  const u = new URL(url);
  const host = u.hostname || 'localhost';
  const user = decodeURIComponent(u.username) || 'postgres';
  return { address: `${host}:${u.port || '5432'}`, database: decodeURIComponent(u.pathname.slice(1)) || user, user };
}

// Node's errno codes for a connection that never got to PostgreSQL.
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/** The errno code anywhere in the cause chain (or in an AggregateError's list, as Node raises for dual-stack hosts). */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if ('code' in e && typeof e.code === 'string' && e.code in NETWORK_REASONS) return e.code;
    if (e instanceof AggregateError) {
      const inner = e.errors.map(networkCode).find((c) => c !== undefined);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The server's own message of the innermost error that carries a SQLSTATE. */
function serverMessage(err: unknown): string {
  let message = '';
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if (e instanceof Error && 'code' in e) message = e.message;
  }
  return message;
}

/**
 * One line saying why the database at `url` could not be used at start, or undefined when `err`
 * is not a connection or login problem (a failing migration stays a bug with its stack).
 */
export function describeDatabaseError(err: unknown, url: string): string | undefined {
  const { address, database, user } = databaseTarget(url);
  const net = networkCode(err);
  if (net) return `cannot connect to ${address} (${NETWORK_REASONS[net]})`;
  switch (sqlState(err)) {
    case '3D000':
      return `database "${database}" does not exist on ${address}`;
    case '28P01':
      return `password authentication failed for user "${user}" on ${address}`;
    case '28000':
      return `${serverMessage(err) || `user "${user}" is not allowed to connect`} on ${address} (check the user in DATABASE_URL and pg_hba.conf)`;
    case '57P03':
      return `the database server on ${address} is not accepting connections yet (starting up or shutting down)`;
    case '53300':
      return `the database server on ${address} has too many connections`;
    case '42501':
      return `user "${user}" may not create the schema in database "${database}" on ${address} (permission denied)`;
    default:
      return undefined;
  }
}

/** SQLSTATEs of a server going away or not there yet: admin_shutdown, crash_shutdown, cannot_connect_now, and class 08 (connection exception). */
const GONE_STATES = /^(57P0[123]|08[0-9A-Z]{3})$/;
// What node-postgres says, without a code, about a connection it lost or cannot use any more.
const LOST_CONNECTION = /^(Connection terminated|Client has encountered a connection error and is not queryable)/;

/**
 * The database could not be reached or dropped the connection while running (a restart, a
 * failover, the network): not a bug of the request, which can be retried once it is back.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  if (networkCode(err)) return true;
  if (GONE_STATES.test(sqlState(err) ?? '')) return true;
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if (e instanceof Error && LOST_CONNECTION.test(e.message)) return true;
  }
  return false;
}
