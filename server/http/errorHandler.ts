// The one place where errors become HTTP answers: `{error: {code, message, details?}}`, with the
// code and status from the catalog (server/errors.ts), never a stack trace.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { isDiskFull } from '../core/diskFull.ts';
import { isDatabaseUnreachable } from '../db/databaseErrors.ts';
import { AppError, codeForStatus, errorCatalog, type ErrorCode, type ErrorStatus } from '../errors.ts';
import type { Logger } from '../log.ts';
import { refuseUnstorable } from './storableText.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorJson(c: Context, status: ErrorStatus, code: ErrorCode, message: string, details?: unknown) {
  const body: ErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  return c.json(body, status);
}

/** Field paths and messages for a 400, from a zod error. */
export function validationDetails(err: ZodError) {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/**
 * What every route's validation does with zod's result: a failure, or a string the database
 * cannot store, is `400 validation_failed` with the fields' paths.
 */
export function refuseInvalid<R extends { success: true; data: unknown } | { success: false; error: ZodError }>(
  result: R,
): asserts result is Extract<R, { success: true }> {
  if (!result.success) throw new AppError(400, 'validation_failed', 'request did not pass validation', validationDetails(result.error));
  refuseUnstorable(result.data);
}

export function createErrorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) {
      // A server-side failure behind a catalog code: the answer names the code, the log keeps why
      // (pino's error serializer writes the `cause` chain into the message and stack).
      if (err.status >= 500) log.error({ err, path: c.req.path, method: c.req.method }, 'request failed');
      return errorJson(c, err.status, err.code, err.message, err.details);
    }
    if (err instanceof HTTPException) {
      const code = codeForStatus.get(err.status);
      const body: ErrorBody = { error: { code: code ?? 'http_error', message: err.message || 'request failed' } };
      return c.json(body, err.status);
    }
    if (err instanceof SyntaxError) return errorJson(c, 400, 'bad_json', 'request body is not valid JSON');
    // Wherever the write was (a file under DATA_DIR, the database), the client may retry later.
    if (isDiskFull(err)) {
      log.error({ err, path: c.req.path, method: c.req.method }, 'disk full');
      return errorJson(c, 507, 'insufficient_storage', errorCatalog[507].insufficient_storage);
    }
    if (isDatabaseUnreachable(err)) {
      log.error({ err, path: c.req.path, method: c.req.method }, 'database unreachable');
      return errorJson(c, 503, 'unavailable', 'the database cannot be reached; retry once it is back');
    }
    log.error({ err, path: c.req.path, method: c.req.method }, 'unhandled error');
    return errorJson(c, 500, 'internal', 'internal server error');
  };
}
