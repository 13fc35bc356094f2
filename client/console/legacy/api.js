// The API client: the token from sessionStorage on every request, errors as ApiError, and which
// routes this build has (read once from /openapi.json) so views can say what is missing.

const TOKEN_KEY = 'posfleet.token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  /** Who is signed in ({id, name, role}), set after /v1/me. */
  me: null,
  onUnauthorized: () => {},
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function randomKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * api('GET', '/v1/devices', {query: {limit: 50}}) / api('POST', path, {body})
 * POSTs carry an Idempotency-Key so a double click or a retry does not create work twice.
 */
export async function api(method, path, opts = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { accept: 'application/json', authorization: `Bearer ${opts.token ?? session.token ?? ''}` };
  let body;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (method === 'POST') headers['idempotency-key'] = opts.idempotencyKey ?? randomKey();
  let res;
  try {
    res = await fetch(url, { method, headers, body, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const e = data && typeof data === 'object' && data.error ? data.error : {};
    const err = new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? `HTTP ${res.status}`, e.details);
    if (res.status === 401 && !opts.token) session.onUnauthorized(err);
    throw err;
  }
  return data;
}

// --- capabilities --------------------------------------------------------------------------

let routes = new Set();
let doc = { paths: {} };

export async function loadCapabilities() {
  try {
    const res = await fetch('/openapi.json', { cache: 'no-store' });
    doc = await res.json();
  } catch {
    doc = { paths: {} };
  }
  const next = new Set();
  for (const [p, ops] of Object.entries(doc.paths ?? {})) {
    for (const m of Object.keys(ops)) next.add(`${m.toUpperCase()} ${p}`);
  }
  routes = next;
  return routes;
}

/** has('GET /v1/faults') — is this route in this build? */
export const has = (route) => routes.has(route);

/** The first of several candidate routes this build has, or null. */
export const first = (...candidates) => candidates.find((r) => routes.has(r)) ?? null;

/** The query parameter names a route accepts: queryParamsOf('GET /v1/faults'). */
export function queryParamsOf(route) {
  const [method, path] = route.split(' ');
  const op = doc.paths?.[path]?.[method.toLowerCase()];
  return new Set((op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
}

/** Enum values of a query parameter, when the API document lists them. */
export function queryEnumOf(route, name) {
  const [method, path] = route.split(' ');
  const op = doc.paths?.[path]?.[method.toLowerCase()];
  const p = (op?.parameters ?? []).find((x) => x.in === 'query' && x.name === name);
  const schema = p?.schema ?? {};
  return schema.enum ?? schema.items?.enum ?? (schema.anyOf ?? []).flatMap((x) => x.enum ?? []) ?? [];
}

/** Fills a route template: fill('/v1/faults/{id}/acknowledge', {id}). */
export const fill = (template, params) => template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));

export const role = () => session.me?.role ?? null;
export const isRole = (...roles) => roles.includes(role());
