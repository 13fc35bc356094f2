// The one place where errors become HTTP answers: `{error: {code, message, details?}}`,
// never a stack trace.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const codeForStatus: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
};

export function errorJson(c: Context, status: ContentfulStatusCode, code: string, message: string, details?: unknown) {
  const body: ErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  return c.json(body, status);
}

/** Field paths and messages for a 400, from a zod error. */
export function validationDetails(err: ZodError) {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

export function createErrorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) {
      return errorJson(c, err.status as ContentfulStatusCode, err.code, err.message, err.details);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return errorJson(c, status, codeForStatus[status] ?? 'http_error', err.message || 'request failed');
    }
    if (err instanceof SyntaxError) return errorJson(c, 400, 'bad_json', 'request body is not valid JSON');
    log.error({ err, path: c.req.path, method: c.req.method }, 'unhandled error');
    return errorJson(c, 500, 'internal', 'internal server error');
  };
}
