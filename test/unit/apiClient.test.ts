// The shared API client against a real HTTP server (Hono on @hono/node-server, as the API runs):
// the token and idempotency headers it sends, error answers turned into ApiError codes, a 401
// reported once, answers parsed by the caller's schema, and an unreachable server as `network`.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, createApiClient, fillPath } from '../../client/apiClient.ts';

const seen: { authorization?: string; idempotencyKey?: string; query?: string }[] = [];
let server: ServerType;
let baseUrl = '';

beforeAll(async () => {
  const app = new Hono();
  app.use(async (c, next) => {
    seen.push({ authorization: c.req.header('authorization'), idempotencyKey: c.req.header('idempotency-key'), query: new URL(c.req.url).search });
    await next();
  });
  app.get('/ok', (c) => c.json({ id: 'dev_1', count: 2 }));
  app.post('/echo', async (c) => c.json(await c.req.json()));
  app.get('/missing', (c) => c.json({ error: { code: 'not_found', message: 'no device dev_9', details: [{ path: 'id' }] } }, 404));
  app.get('/private', (c) => c.json({ error: { code: 'unauthorized', message: 'sign in' } }, 401));
  app.get('/bare', (c) => c.text('gateway down', 502));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${(address satisfies AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('api client', () => {
  it('sends the token, parses the answer with the caller schema and spreads array queries', async () => {
    const client = createApiClient({ baseUrl, token: () => 'pf_abc' });
    const answer = await client.call(z.object({ id: z.string(), count: z.number() }), 'GET', '/ok', { query: { state: ['open', 'acknowledged'], empty: '', limit: 5 } });
    expect(answer).toEqual({ id: 'dev_1', count: 2 });
    expect(seen.at(-1)).toMatchObject({ authorization: 'Bearer pf_abc', query: '?state=open&state=acknowledged&limit=5' });
    await expect(client.call(z.object({ id: z.number() }), 'GET', '/ok')).rejects.toThrow();
  });

  it('puts a fresh Idempotency-Key on every POST unless given one', async () => {
    const client = createApiClient({ baseUrl, token: () => null });
    await client.request('POST', '/echo', { body: { a: 1 } });
    await client.request('POST', '/echo', { body: { a: 1 }, idempotencyKey: 'k-1' });
    const [first, second] = seen.slice(-2);
    expect(first?.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
    expect(first?.authorization).toBeUndefined();
    expect(second?.idempotencyKey).toBe('k-1');
  });

  it('turns error answers into ApiError with the API code, status and details', async () => {
    const client = createApiClient({ baseUrl, token: () => 't' });
    const err = await client.request('GET', '/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'no device dev_9', details: [{ path: 'id' }] });
    await expect(client.request('GET', '/bare')).rejects.toMatchObject({ status: 502, code: 'http_502' });
  });

  it('reports a 401 on its own token, not on a candidate token', async () => {
    const unauthorized: string[] = [];
    const client = createApiClient({ baseUrl, token: () => 'old', onUnauthorized: (e) => unauthorized.push(e.code) });
    await expect(client.request('GET', '/private')).rejects.toMatchObject({ status: 401 });
    await expect(client.request('GET', '/private', { token: 'candidate' })).rejects.toMatchObject({ status: 401 });
    expect(unauthorized).toEqual(['unauthorized']);
  });

  it('says network when nothing answers', async () => {
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:1', token: () => null });
    await expect(client.request('GET', '/ok')).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('fills route templates with encoded ids', () => {
    expect(fillPath('/v1/faults/{id}/acknowledge', { id: 'a/b c' })).toBe('/v1/faults/a%2Fb%20c/acknowledge');
  });
});
