import { describe, expect, it } from 'vitest';
import { databaseTarget, describeDatabaseError } from '../../server/db/databaseErrors.ts';

// Shaped as they reach openDatabase: drizzle's "Failed query" wrapper, the driver's error as its cause.
const wrapped = (cause: Error) => new Error('Failed query: CREATE SCHEMA IF NOT EXISTS "drizzle"\nparams: ', { cause });
const withCode = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('databaseTarget', () => {
  it('fills in PostgreSQL defaults: port 5432, user postgres, database named after the user', () => {
    expect(databaseTarget('postgres://db.internal/fleet')).toEqual({ address: 'db.internal:5432', database: 'fleet', user: 'postgres' });
    expect(databaseTarget('postgresql://ops:pw@10.0.0.5:6543')).toEqual({ address: '10.0.0.5:6543', database: 'ops', user: 'ops' });
    expect(databaseTarget('postgres://u%40x@h/my%20db')).toEqual({ address: 'h:5432', database: 'my db', user: 'u@x' });
  });
});

describe('describeDatabaseError', () => {
  const url = 'postgres://fleet:secret@127.0.0.1:5432/x';

  it('names the missing database and where it was looked for (3D000)', () => {
    const err = wrapped(withCode('database "x" does not exist', { code: '3D000' }));
    expect(describeDatabaseError(err, url)).toBe('database "x" does not exist on 127.0.0.1:5432');
  });

  it('says who failed to log in, never the password (28P01, 28000)', () => {
    const bad = describeDatabaseError(wrapped(withCode('password authentication failed for user "fleet"', { code: '28P01' })), url);
    expect(bad).toBe('password authentication failed for user "fleet" on 127.0.0.1:5432');
    const refused = describeDatabaseError(wrapped(withCode('role "fleet" does not exist', { code: '28000' })), url);
    expect(refused).toBe('role "fleet" does not exist on 127.0.0.1:5432 (check the user in DATABASE_URL and pg_hba.conf)');
    for (const m of [bad, refused]) expect(m).not.toContain('secret');
  });

  it('reads errno codes of a connection that never reached PostgreSQL', () => {
    const cases: [string, string][] = [
      ['ECONNREFUSED', 'cannot connect to 127.0.0.1:1 (connection refused)'],
      ['ENOTFOUND', 'cannot connect to 127.0.0.1:1 (host not found)'],
      ['ETIMEDOUT', 'cannot connect to 127.0.0.1:1 (timed out)'],
      ['EHOSTUNREACH', 'cannot connect to 127.0.0.1:1 (host unreachable)'],
    ];
    for (const [code, message] of cases) {
      expect(
        describeDatabaseError(wrapped(withCode(`connect ${code}`, { code, errno: -111 })), 'postgres://u@127.0.0.1:1/test'),
        code,
      ).toBe(message);
    }
  });

  it('looks inside an AggregateError (Node tries each address of a dual-stack host)', () => {
    const both = new AggregateError([
      withCode('connect ECONNREFUSED ::1:1', { code: 'ECONNREFUSED' }),
      withCode('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }),
    ]);
    expect(describeDatabaseError(wrapped(both), 'postgres://u@localhost:1/test')).toBe(
      'cannot connect to localhost:1 (connection refused)',
    );
  });

  it('leaves other failures (a broken migration, a bug) to be reported with their stack', () => {
    expect(describeDatabaseError(wrapped(withCode('syntax error at or near "TABEL"', { code: '42601' })), url)).toBeUndefined();
    expect(describeDatabaseError(new TypeError('x is not a function'), url)).toBeUndefined();
    expect(describeDatabaseError('a string', url)).toBeUndefined();
  });
});
