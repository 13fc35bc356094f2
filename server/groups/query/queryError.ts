// A query that does not parse or cannot be compiled: where (a character offset) and what was expected.
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

/** The API's answer to a bad query: 400 `query_invalid` with `{position, expected}`. */
export const queryInvalid = (err: QueryError): AppError =>
  badRequest('query_invalid', `query is not valid: ${err.message}`, { position: err.position, expected: err.expected }, { cause: err });
