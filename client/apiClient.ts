// The one HTTP client of posfleet's own API, shared by the console (browser) and the operator CLI
// (Node): both have `fetch`. A bearer token on every call, an Idempotency-Key on every POST (a
// double click or a retry does not create work twice), and the API's `{error:{code,message}}`
// turned into an ApiError that keeps the code, so callers branch on codes, never on messages.
// `call` takes the answer's zod schema (from schemas/ or the server's response schemas) and parses
// the answer with it, so nothing here retypes the contract and a drifted answer fails loudly.

export type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** A body sent as it is with its content type instead of `body`'s JSON: a CSV import, a firmware image (a stream is sent half-duplex, never held whole). */
  content?: { type: string; data: BodyInit };
  /** Sent as Idempotency-Key on a POST; a fresh random one when absent. */
  idempotencyKey?: string;
  /** Overrides the client's token for this call (sign-in checks a candidate token). */
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  /** The server's origin, e.g. http://127.0.0.1:8080 (the console passes location.origin). */
  baseUrl: string;
  token(): string | null;
  /** Called on a 401 to a call made with the client's own token (the console signs out). */
  onUnauthorized?(error: ApiError): void;
  fetch?: typeof fetch;
}

/** An error answer of the API, or `network` when the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

/** What `call` parses an answer with: a zod schema, or anything with its `parse`. */
export interface AnswerParser<T> {
  parse(data: unknown): T;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiClient {
  /** The answer parsed by `schema`, or throws ApiError (or the schema's error on a drifted answer). */
  call<T>(schema: AnswerParser<T>, method: HttpMethod, path: string, opts?: RequestOptions): Promise<T>;
  /** The JSON answer unparsed (null for an empty body), for callers that only show it (`--json`). */
  request(method: HttpMethod, path: string, opts?: RequestOptions): Promise<unknown>;
  /** The raw answer of a successful call, for streamed bodies (exports, the event stream). */
  raw(method: HttpMethod, path: string, opts?: RequestOptions): Promise<Response>;
}

/** Fills a route template: fillPath('/v1/faults/{id}/acknowledge', {id}). */
export const fillPath = (template: string, params: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(params[key] ?? ''));

function randomKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function urlFor(baseUrl: string, path: string, query: Query | undefined): URL {
  const url = new URL(path, baseUrl);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(key, String(item));
    else url.searchParams.set(key, String(value));
  }
  return url;
}

/** An answer's text as JSON (null when empty, the text itself when not JSON). */
export function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The ApiError an error answer stands for (also read by the console's upload with progress, which uses XMLHttpRequest). */
export function errorOf(status: number, body: unknown): ApiError {
  const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  const fields = typeof error === 'object' && error !== null ? error : {};
  const code = 'code' in fields && typeof fields.code === 'string' ? fields.code : `http_${status}`;
  const message = 'message' in fields && typeof fields.message === 'string' ? fields.message : `HTTP ${status}`;
  return new ApiError(status, code, message, 'details' in fields ? fields.details : undefined);
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  async function raw(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const token = opts.token ?? options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (opts.content !== undefined) {
      headers['content-type'] = opts.content.type;
      body = opts.content.data;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    if (method === 'POST') headers['idempotency-key'] = opts.idempotencyKey ?? randomKey();
    // fetch sends a stream body only half-duplex, and says so only when asked (Node's undici).
    const init = { method, headers, body, cache: 'no-store' as const, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) };
    let res: Response;
    try {
      res = await doFetch(urlFor(options.baseUrl, path, opts.query), init);
    } catch (cause) {
      throw new ApiError(0, 'network', `The server at ${options.baseUrl} cannot be reached.`, undefined, { cause });
    }
    if (res.ok) return res;
    const err = errorOf(res.status, parseBody(await res.text()));
    if (res.status === 401 && opts.token === undefined) options.onUnauthorized?.(err);
    throw err;
  }

  return {
    raw,
    async request(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<unknown> {
      const res = await raw(method, path, opts);
      return parseBody(await res.text());
    },
    async call<T>(schema: AnswerParser<T>, method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
      const res = await raw(method, path, opts);
      return schema.parse(parseBody(await res.text()));
    },
  };
}
