// A query that fails is logged by the statement it ran, never by the values bound to it: a card
// number or a secret in a parameter must not reach the log through the query error (its message,
// its `params`), the database's own error (a value quoted in its message, its `detail`), or an
// AppError or a plain message that carries either.
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { AppError } from '../../server/errors.ts';
import { createLogger } from '../../server/log.ts';
import { forEachDatabase } from '../helpers/databases.ts';

// Short and dashed on purpose: not key-like, so only the query-error redaction can hide it.
const SECRET = 'card-4111111111111111-pin-1234';
// The JSON parser quotes the word it stopped at in its detail: one word.
const WORD = 'pan4111111111111111x';

function capturedLogger() {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', { write: (line: string) => void lines.push(line) }) };
}

async function failure(run: () => Promise<unknown>): Promise<Error> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`expected the query to fail, got ${String(err)}`);
  return err;
}

forEachDatabase('failed queries in the log', (getDb) => {
  it('names the statement and drops the parameters, the quoted value and the detail', async () => {
    const asInteger = await failure(() => getDb().execute(sql`select ${SECRET}::int as n`));
    const asJson = await failure(() => getDb().execute(sql`select ${WORD}::jsonb as j`));
    // What the database gives on its own carries the value: the redaction has something to do.
    expect(`${asInteger.message} ${String(asInteger.cause)}`).toContain(SECRET);
    expect(JSON.stringify(asJson.cause, Object.getOwnPropertyNames(asJson.cause))).toContain(WORD);

    const { lines, log } = capturedLogger();
    log.error({ err: asInteger }, 'query failed');
    log.error({ err: asJson.cause }, 'driver error');
    log.error({ err: new AppError(500, 'internal', 'could not store', undefined, { cause: asJson }) }, 'request failed');
    log.warn({ err: asInteger.message }, 'job failed');
    log.error(asInteger, 'logged bare');

    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain(WORD);
    }
    const first = JSON.parse(lines[0]!) as { err: { message: string; stack: string; params?: unknown; query?: string } };
    expect(first.err.message).toContain('select $1::int as n');
    expect(first.err.params).toBeUndefined();
    expect(first.err.stack).toContain('select $1::int as n');
    const third = JSON.parse(lines[2]!) as { err: { message: string } };
    expect(third.err.message).toContain('select $1::jsonb as j');
  });
});
