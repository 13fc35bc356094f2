// A query that does not parse or cannot be compiled: where (a character offset) and what was expected.
import { z } from 'zod';
import { badRequest, type AppError } from '../../errors.ts';

export class QueryError extends Error {
  constructor(
    readonly position: number,
    readonly expected: string,
    message = `at ${position}: expected ${expected}`,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** The `details` of a `query_invalid` answer; the console reads them with this to point at the place. */
export const queryInvalidDetails = z.object({ position: z.number().int().min(0), expected: z.string() });
export type QueryInvalidDetails = z.infer<typeof queryInvalidDetails>;

/** The API's answer to a bad query: 400 `query_invalid` with `{position, expected}`. */
export const queryInvalid = (err: QueryError): AppError => {
  const details: QueryInvalidDetails = { position: err.position, expected: err.expected };
  return badRequest('query_invalid', `query is not valid: ${err.message}`, details, { cause: err });
};
