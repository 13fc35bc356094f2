// The one HTTP client of the tests: a JSON request to the API as a caller would send it, the
// answer read back typed by what the test expects (`api<T>`), with the raw text kept for tests
// that grep it.

export interface ApiRequestOptions {
  /** Bearer token; undefined = the client's default, null = no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
  /** A body sent as is (not JSON-encoded), e.g. a CSV import or a malformed JSON text. */
  raw?: BodyInit;
}

export interface ApiResponse<T> {
  status: number;
  /** The JSON answer; the text itself when it is not JSON; null when empty. */
  body: T;
  text: string;
  headers: Headers;
}

export type Api = <T = unknown>(method: string, path: string, body?: unknown, opts?: ApiRequestOptions) => Promise<ApiResponse<T>>;

export interface ApiClientOptions {
  /** Read on every request: a restarted server keeps its port but a getter costs nothing. */
  baseUrl: () => string;
  /** Sent when a request names no token; none by default. */
  defaultToken?: string;
  /** Sees every answer's text (the key suites grep them for key material). */
  onResponse?: (text: string) => void;
  /** How a request travels; default `fetch`. A Hono app's `request` keeps it in process. */
  send?: (url: string, init: RequestInit) => Response | Promise<Response>;
}

export function createApiClient(opts: ApiClientOptions): Api {
  return async <T>(method: string, path: string, body?: unknown, o: ApiRequestOptions = {}): Promise<ApiResponse<T>> => {
    const token = o.token === undefined ? opts.defaultToken : o.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers };
    let payload: BodyInit | undefined = o.raw;
    if (body !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(body);
    }
    const send = opts.send ?? fetch;
    const res = await send(`${opts.baseUrl()}${path}`, { method, headers, body: payload });
    const text = await res.text();
    opts.onResponse?.(text);
    return { status: res.status, body: parseBody<T>(text), text, headers: res.headers };
  };
}

function parseBody<T>(text: string): T {
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  // The test names what it expects to read; the assertions that follow check it.
  return parsed as T;
}
