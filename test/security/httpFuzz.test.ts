// Property-based fuzzing of every operation in /openapi.json (issue #16): requests derived from
// each operation's schemas (path ids, query, body), mutated as a broken or hostile client would
// (test/helpers/openapiFuzz/). Whatever comes in, the answer is never a 5xx, every 4xx
// is `{error: {code, message}}`, a request the schema must refuse is never a 2xx, and after each
// operation's run the server still answers /healthz.
//
// Knobs (environment):
//   FUZZ_SEED=<int>   base seed (default 16); each operation's seed is derived from it and its
//                     method and path, so the same FUZZ_SEED with FUZZ_ONLY replays one operation
//   FUZZ_ONLY=<text>  fuzz only the operations whose "METHOD /path" contains it
//   FUZZ_DEBUG=1      print every request's status and mutation, and the tally of statuses
//   FUZZ_RUNS=<int>   requests per operation (default 12; ~1,300 requests, well under 20 s);
//                     raise it for a longer hunt: FUZZ_RUNS=500 npx vitest run ... httpFuzz
// A failure prints fast-check's counterexample (the request, its mutation) and seed/path to
// replay it. Runs on PGlite only (onDefaultServer): the answers judged here are the HTTP layer's,
// and the engines' SQL is proven alike by test/db and the domain suites.
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { createApiClient, type Api, type ApiResponse } from '../helpers/apiClient.ts';
import { onDefaultServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { merchantBody } from '../merchants/helpers.ts';
import { uniqueSerial } from '../helpers/devices.ts';
import {
  deepArray,
  operationsOf,
  requestOf,
  resolver,
  type FuzzOperation,
  type FuzzRequest,
  type OpenApiDocument,
} from '../helpers/openapiFuzz/index.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 16);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const ONLY = process.env.FUZZ_ONLY;
const DEBUG = Boolean(process.env.FUZZ_DEBUG);
const REQUEST_TIMEOUT_MS = 10_000;

/** Operations not fuzzed, each with why. */
const SKIPPED: Record<string, string> = {
  'POST /v1/fault-notifier/test': 'sends a request to the webhook URL, which the fuzzer sets to made-up hosts',
};

interface ErrorAnswer {
  error: { code: string; message: string };
}

const isErrorAnswer = (body: unknown): body is ErrorAnswer => {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error: unknown = body.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    'message' in error &&
    typeof error.code === 'string' &&
    typeof error.message === 'string'
  );
};

/** fetch with a timeout; an event stream is cut once its status and headers are in. */
async function send(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
  await res.body?.cancel();
  return new Response(null, { status: res.status, headers: res.headers });
}

/** What is wrong with `res` as the answer to `req`, or undefined. */
function answerProblem(req: FuzzRequest, res: ApiResponse<unknown>): string | undefined {
  if (res.status >= 500) return `a ${res.status}`;
  if (res.status >= 400) {
    if (!res.headers.get('content-type')?.startsWith('application/json'))
      return `a ${res.status} of ${res.headers.get('content-type') ?? 'no content type'}`;
    if (!isErrorAnswer(res.body)) return `a ${res.status} whose body is not {error: {code, message}}`;
  }
  if (res.status < 300 && req.refuse) return `a ${res.status} to a request the schema refuses`;
  return undefined;
}

const sendRequest = (api: Api, req: FuzzRequest) =>
  api(req.method, req.url, undefined, {
    ...(req.body ? { raw: req.body.text } : {}),
    headers: { ...(req.body ? { 'content-type': req.body.contentType } : {}), ...req.headers },
  });

const seedOf = (op: FuzzOperation) => {
  let h = SEED | 0;
  for (const ch of `${op.method} ${op.path}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
};

const describeRequest = (req: FuzzRequest, caller: string) => {
  const body = req.body ? ` body(${req.body.contentType}, ${req.body.text.length} long): ${String(req.body.text).slice(0, 200)}` : '';
  return `${caller} ${req.method} ${req.url.slice(0, 300)} [${req.mutation}]${body}`;
};

/** Regressions: requests the fuzzer once answered wrongly, kept by name with the answer now due. */
interface Example {
  name: string;
  /** Given the real ids the fuzzer uses (`device`, `merchant`). */
  request: (ids: { device: string; merchant: string }) => FuzzRequest;
  code: string;
  detail?: { path: string; message: string };
}

const json = (value: unknown) => ({ text: JSON.stringify(value), contentType: 'application/json' });
const tooDeep = (path: string) => ({ path, message: 'nested deeper than 32 levels' });

const examples: Example[] = [
  {
    // Was 500: the storable-text walk recursed once per level and overflowed the call stack.
    name: 'a command payload nested 2,000 deep is 400 validation_failed',
    request: ({ device }) => ({
      method: 'POST',
      url: `/v1/devices/${device}/commands`,
      body: json({ type: 'reboot', payload: { a: deepArray(2_000) } }),
      mutation: 'nesting 2000 (arrays) at payload.a',
      refuse: true,
    }),
    code: 'validation_failed',
    detail: tooDeep(`payload.a${'.0'.repeat(30)}`),
  },
  {
    name: 'a command payload nested 100,000 deep (200 KB of brackets) is 400 validation_failed',
    request: ({ device }) => ({
      method: 'POST',
      url: `/v1/devices/${device}/commands`,
      body: { text: `{"type":"config.set","payload":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`, contentType: 'application/json' },
      mutation: 'nesting 100000 (arrays) at payload.a',
      refuse: true,
    }),
    code: 'validation_failed',
    detail: tooDeep(`payload.a${'.0'.repeat(30)}`),
  },
  {
    // Was 200 and an open stream: the stream is not a createRoute, and its query went unchecked.
    name: 'the live stream with a NUL in types is 400 validation_failed',
    request: () => ({ method: 'GET', url: '/v1/stream?types=device%00', mutation: 'query types with %00', refuse: true }),
    code: 'validation_failed',
    detail: { path: 'types', message: 'contains U+0000 (NUL), which cannot be stored' },
  },
  {
    // Was 200, the merchant unchanged: without a JSON Content-Type the validator read the body as {}.
    name: 'a merchant PATCH without a body is 400 bad_content_type',
    request: ({ merchant }) => ({ method: 'PATCH', url: `/v1/merchants/${merchant}`, mutation: 'body absent', refuse: true }),
    code: 'bad_content_type',
  },
  {
    name: 'a merchant PATCH with its JSON sent as text/plain is 400 bad_content_type',
    request: ({ merchant }) => ({
      method: 'PATCH',
      url: `/v1/merchants/${merchant}`,
      body: { text: JSON.stringify({ name: 'Renamed' }), contentType: 'text/plain' },
      mutation: 'JSON under another content type',
      refuse: true,
    }),
    code: 'bad_content_type',
  },
];

onDefaultServer('HTTP input fuzzing', (server) => {
  let doc: OpenApiDocument;
  let admin: Api;
  let operator: Api;
  const ids: Record<string, string[]> = {};

  beforeAll(async () => {
    const t: TestServer = server();
    admin = createApiClient({ baseUrl: () => t.url, defaultToken: TEST_ADMIN_TOKEN, send });
    const docRes = await t.api<OpenApiDocument>('GET', '/openapi.json', undefined, { token: null });
    expect(docRes.status).toBe(200);
    doc = docRes.body;
    const made = await t.api<{ token: string }>('POST', '/v1/users', { name: 'fuzz-operator', role: 'operator' });
    expect(made.status, made.text).toBe(201);
    operator = createApiClient({ baseUrl: () => t.url, defaultToken: made.body.token, send });
    // Real ids, so some requests get past the lookup into the handlers.
    const device = await t.api<{ id: string }>('POST', '/v1/devices', { serial: uniqueSerial('FUZZ'), model: 'PAX-A920' });
    expect(device.status, device.text).toBe(201);
    const merchant = await t.api<{ id: string }>('POST', '/v1/merchants', merchantBody());
    expect(merchant.status, merchant.text).toBe(201);
    ids.id = [device.body.id, merchant.body.id];
  });

  it('covers every operation of /openapi.json', () => {
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThan(100);
    for (const key of Object.keys(SKIPPED)) expect(ops.map((op) => `${op.method} ${op.path}`)).toContain(key);
  });

  // About a second per run of every operation on this machine, five under the load of a bench.
  it('answers each operation without a 5xx, 4xx as {error}, and stays up', { timeout: 60_000 + RUNS * 5_000 }, async () => {
    const resolve = resolver(doc);
    // Every operation runs even after one fails, so a run lists all it found.
    const failures: string[] = [];
    const tally = new Map<number, number>();
    const codes = new Set<string>();
    const succeeded = new Set<string>();
    for (const op of operationsOf(doc)) {
      if (SKIPPED[`${op.method} ${op.path}`] || (ONLY && !`${op.method} ${op.path}`.includes(ONLY))) continue;
      const arb = fc.tuple(requestOf(op, { resolve, ids }), fc.constantFrom('admin', 'admin', 'admin', 'operator'));
      const details = await fc.check(
        fc.asyncProperty(arb, async ([req, caller]) => {
          const res = await sendRequest(caller === 'admin' ? admin : operator, req).catch((err: unknown) => {
            throw new Error(
              `no answer (${String(err)}, ${String(err instanceof Error ? err.cause : '')}): ${describeRequest(req, caller)}`,
            );
          });
          const problem = answerProblem(req, res);
          tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
          if (isErrorAnswer(res.body)) codes.add(res.body.error.code);
          if (res.status < 300) succeeded.add(`${op.method} ${op.path}`);
          if (DEBUG) console.log(res.status, describeRequest(req, caller).slice(0, 200));
          if (problem) throw new Error(`${problem}: ${describeRequest(req, caller)} → ${res.text.slice(0, 300)}`);
        }),
        { seed: seedOf(op), numRuns: RUNS },
      );
      if (details.failed)
        failures.push(`${op.method} ${op.path}: ${String(details.errorInstance)}\n${fc.defaultReportMessage(details) ?? ''}`);
      const health = await admin('GET', '/healthz');
      if (health.status !== 200) failures.push(`after ${op.method} ${op.path}: /healthz answered ${health.status}`);
    }
    if (DEBUG)
      console.log(
        'statuses',
        [...tally].sort(([a], [b]) => a - b),
        `2xx on ${succeeded.size} operations`,
      );
    expect(failures, failures.join('\n\n')).toEqual([]);
    // Valid-shaped requests must keep reaching the handlers, not all end at a 400 or a 404
    // (49 of 112 operations answer a 2xx at the default seed and runs).
    if (!ONLY && RUNS >= 12) {
      expect(succeeded.size).toBeGreaterThanOrEqual(30);
      // The refusals already in place, met by the fuzzer's own requests: NUL and surrogates at
      // validation, cursors, body limit, JSON content type.
      expect([...codes]).toEqual(
        expect.arrayContaining(['validation_failed', 'bad_cursor', 'payload_too_large', 'bad_content_type', 'not_found', 'forbidden']),
      );
    }
  });

  it.each(examples)('$name', async ({ request, code, detail }) => {
    const [device, merchant] = ids.id ?? [];
    const req = request({ device: device ?? 'dev_none', merchant: merchant ?? 'mer_none' });
    const res = await sendRequest(admin, req);
    expect(answerProblem(req, res), res.text).toBeUndefined();
    expect([res.status, isErrorAnswer(res.body) && res.body.error.code], res.text).toEqual([400, code]);
    if (detail) expect(res.body).toMatchObject({ error: { details: expect.arrayContaining([detail]) } });
  });

  // Was "other side closed" on the second request after a 401 or 403 to a body the server never
  // read: @hono/node-server dropped the kept-alive socket under it. Seen as a fetch failure of
  // the fuzzer on POST /v1/key-vault/requests and /v1/rebind-requests/{id}/reject.
  it.each([
    ['a 403 (operator)', () => operator],
    ['a 401 (no token)', () => createApiClient({ baseUrl: () => server().url, send })],
  ] as const)('after %s to a 300 KB body the next requests are answered', async (_, caller) => {
    const big = JSON.stringify({ action: 'master_key.replace', reason: 'x'.repeat(300_000) });
    for (let round = 0; round < 3; round++) {
      const refused = await caller()('POST', '/v1/key-vault/requests', undefined, {
        raw: big,
        headers: { 'content-type': 'application/json' },
      });
      expect(refused.status).toBeGreaterThanOrEqual(401);
      expect(refused.status).toBeLessThanOrEqual(403);
      // POSTs, which a client may not retry on its own: each one must get its own answer.
      for (let i = 0; i < 5; i++) expect((await admin('POST', '/v1/users', {})).status).toBe(400);
    }
  });
});
