// /openapi.json is the contract a third party builds clients from: the ops routes and the live
// stream are in it with the media types they answer in, and the examples of the main request
// bodies are requests the server accepts as they stand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndEnroll } from '../helpers/devices.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

interface Schema {
  $ref?: string;
  example?: unknown;
}
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  security?: unknown[];
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

describe('the OpenAPI document', { timeout: 60_000 }, () => {
  let t: TestServer;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    t = await startTestServer();
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApiDocument;
  }, 60_000);
  afterAll(() => t?.stop());

  const operation = (method: string, path: string): Operation => {
    const op = doc.paths[path]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in /openapi.json`);
    return op;
  };
  const mediaTypes = (path: string, status = '200') => Object.keys(operation('get', path).responses[status]?.content ?? {});
  /** The example of a JSON request body, through a $ref to a named schema if there is one. */
  const bodyExample = (method: string, path: string): unknown => {
    const schema = operation(method, path).requestBody?.content['application/json']?.schema;
    const named = schema?.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
    expect(named?.example, `${method.toUpperCase()} ${path} has a body example`).toBeDefined();
    return named?.example;
  };

  it('lists the probes, the metrics and the live stream with their media types', () => {
    expect(mediaTypes('/healthz')).toEqual(['application/json']);
    expect(mediaTypes('/readyz')).toEqual(['application/json']);
    expect(mediaTypes('/readyz', '503')).toEqual(['application/json']);
    expect(mediaTypes('/metrics')).toHaveLength(1);
    expect(mediaTypes('/metrics')[0]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(mediaTypes('/v1/stream')).toEqual(['text/event-stream']);
    // The probes and metrics need no token; the stream does (the document-wide bearer scheme).
    for (const p of ['/healthz', '/readyz', '/metrics']) expect(operation('get', p).security, p).toEqual([]);
    expect(operation('get', '/v1/stream').security).toBeUndefined();
  });

  it('serves the /docs page and Swagger UI files itself, with a clear 404 for anything else', async () => {
    const page = await fetch(`${t.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const src of scripts) {
      expect(src, 'no link leaves the server').toMatch(/^\/docs\/assets\//);
      const asset = await fetch(`${t.url}${src}`);
      expect(asset.status, src).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, src).toBeGreaterThan(0);
    }
    const missing = await fetch(`${t.url}/docs/assets/../../etc/passwd`);
    expect(missing.status).toBe(404);
    const unknown = await fetch(`${t.url}/docs/assets/swagger-ui.js.map`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('answers in the media types it documents', async () => {
    expect((await fetch(`${t.url}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await fetch(`${t.url}/healthz`)).headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('gives examples of the main request bodies that the server accepts as they are', async () => {
    const registered = await t.api('POST', '/v1/devices', bodyExample('post', '/v1/devices'));
    expect(registered.status, registered.text).toBe(201);
    // Commands go to enrolled terminals only.
    const enrolled = await registerAndEnroll(t, { model: 'PAX-A920' });
    const command = await t.api('POST', `/v1/devices/${enrolled.deviceId}/commands`, bodyExample('post', '/v1/devices/{id}/commands'));
    expect(command.status, command.text).toBe(201);
    const batch = await t.api<{ total: number }>('POST', '/v1/commands', bodyExample('post', '/v1/commands'));
    expect(batch.status, batch.text).toBe(201);
    expect(batch.body.total).toBeGreaterThanOrEqual(1);
    const merchant = await t.api('POST', '/v1/merchants', bodyExample('post', '/v1/merchants'));
    expect(merchant.status, merchant.text).toBe(201);
    const rotation = await t.api<{ state: string }>('POST', '/v1/key-rotations', bodyExample('post', '/v1/key-rotations'));
    expect(rotation.status, rotation.text).toBe(201);
    expect(rotation.body.state).toBe('draft');
  });

  it("gives a rollout example that passes validation (its firmware id names an image of the reader's own)", async () => {
    const rollout = await t.api<{ error: { code: string } }>('POST', '/v1/rollouts', bodyExample('post', '/v1/rollouts'));
    expect(rollout.status, rollout.text).toBe(422);
    expect(rollout.body.error.code).toBe('unknown_firmware');
  });
});
