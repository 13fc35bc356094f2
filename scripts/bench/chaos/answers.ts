// One API request of a chaos case, answered or not within a bound, and whether the answer was
// clear: a 2xx, or an error status with the catalog's `{error: {code, message}}`. A request that
// hangs past the bound, or an error without that body, is what the failure must never cause.
import { errorText } from '../util.ts';

export interface Answer {
  /** 0: no answer within the bound (or no connection). */
  status: number;
  ms: number;
  body: unknown;
  /** The catalog code of an error answer. */
  code?: string;
  /** Why the answer is not clear; absent when it is. */
  unclear?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The error body's code when it has the catalog's shape, else undefined. */
export function errorCode(body: unknown): string | undefined {
  const error = isRecord(body) ? body.error : undefined;
  return isRecord(error) && typeof error.code === 'string' && typeof error.message === 'string' ? error.code : undefined;
}

/** `body`: JSON, or a Blob sent as an octet stream (a log bundle). */
export async function ask(
  baseUrl: string,
  token: string | null,
  method: string,
  path: string,
  body: unknown,
  boundMs: number,
): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const raw = body instanceof Blob;
  if (body !== undefined) headers['content-type'] = raw ? 'application/octet-stream' : 'application/json';
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(boundMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (res.ok) return { status: res.status, ms, body: parsed };
    const code = errorCode(parsed);
    return code
      ? { status: res.status, ms, body: parsed, code }
      : {
          status: res.status,
          ms,
          body: parsed,
          unclear: `${method} ${path}: ${res.status} without {error:{code,message}}: ${text.slice(0, 120)}`,
        };
  } catch (err) {
    return {
      status: 0,
      ms: performance.now() - started,
      body: null,
      unclear: `${method} ${path}: no answer within ${boundMs} ms (${errorText(err)})`,
    };
  }
}

/** Answers by status and code ("201", "503 unavailable", "0"), for a case's figures. */
export function tallyKey(a: Answer): string {
  return a.code ? `${a.status} ${a.code}` : String(a.status);
}
