// The error catalog and its mapping to HTTP answers and CONNACK return codes.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { AppError, ConnectRefused, conflict, connectRefusals, errorCatalog, forbidden, notFound } from '../../server/errors.ts';
import { createErrorHandler } from '../../server/http/errorHandler.ts';
import { createLogger } from '../../server/log.ts';

function appThrowing(err: Error) {
  const lines: string[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(s) });
  const app = new Hono();
  app.get('/x', () => {
    throw err;
  });
  app.onError(createErrorHandler(log));
  const logged = () => lines.map((l) => JSON.parse(l) as { msg: string; err?: { message: string; stack: string } });
  return { request: () => app.request('/x'), logged };
}

describe('error catalog', () => {
  it('gives an AppError the status it was raised with and the catalog message by default', () => {
    const e = new AppError(409, 'serial_exists');
    expect(e.status).toBe(409);
    expect(e.code).toBe('serial_exists');
    expect(e.message).toBe(errorCatalog[409].serial_exists);
    expect(conflict('device_busy', 'busy now').message).toBe('busy now');
    expect(notFound('device dev_1').message).toBe('device dev_1 not found');
    expect(forbidden().code).toBe('forbidden');
  });

  it('keeps the error it stands for as cause', () => {
    const original = Object.assign(new Error('duplicate key value'), { code: '23505' });
    const e = conflict('serial_exists', 'a device with serial S1 is already registered', undefined, { cause: original });
    expect(e.cause).toBe(original);
  });

  it('lists codes the documented contract sends with two statuses under both', () => {
    expect(Object.keys(errorCatalog[403])).toContain('blacklisted');
    expect(Object.keys(errorCatalog[409])).toContain('blacklisted');
    expect(Object.keys(errorCatalog[403])).toContain('bad_signature');
    expect(Object.keys(errorCatalog[422])).toContain('bad_signature');
  });

  it('maps the CONNACK refusals to MQTT 3.1.1 return codes', () => {
    expect(Object.fromEntries(Object.entries(connectRefusals).map(([k, v]) => [k, v.returnCode]))).toEqual({
      client_id_mismatch: 2,
      server_unavailable: 3,
      bad_credentials: 4,
      revoked: 5,
    });
    const refused = new ConnectRefused('revoked');
    expect([refused.returnCode, refused.message]).toEqual([5, 'device revoked']);
  });
});

describe('error handler', () => {
  it('answers an AppError with its status, code, message and details, logging nothing', async () => {
    const t = appThrowing(new AppError(400, 'validation_failed', 'bad field', [{ path: 'a', message: 'required' }]));
    const res = await t.request();
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'validation_failed', message: 'bad field', details: [{ path: 'a', message: 'required' }] },
    });
    expect(t.logged()).toEqual([]);
  });

  it('answers a framework HTTPException with the catalog code of its status', async () => {
    const res = await appThrowing(new HTTPException(405, { message: 'nope' })).request();
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ error: { code: 'method_not_allowed', message: 'nope' } });
    const odd = await appThrowing(new HTTPException(418, { message: 'teapot' })).request();
    expect([odd.status, await odd.json()]).toEqual([418, { error: { code: 'http_error', message: 'teapot' } }]);
  });

  it('answers a bug with 500 internal and logs it with its cause', async () => {
    const t = appThrowing(new Error('wrapper failed', { cause: new Error('socket hang up') }));
    const res = await t.request();
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal server error' } });
    const [line] = t.logged();
    expect(line?.msg).toBe('unhandled error');
    expect(line?.err?.stack).toContain('caused by: Error: socket hang up');
  });

  it('logs the cause of an AppError sent as a 5xx, but not of a 4xx', async () => {
    const t = appThrowing(new AppError(503, 'unavailable', undefined, undefined, { cause: new Error('redis down') }));
    const res = await t.request();
    expect([res.status, await res.json()]).toEqual([503, { error: { code: 'unavailable', message: 'service unavailable' } }]);
    expect(t.logged()[0]?.err?.stack).toContain('caused by: Error: redis down');
    const quiet = appThrowing(conflict('serial_exists', undefined, undefined, { cause: new Error('duplicate key') }));
    expect((await quiet.request()).status).toBe(409);
    expect(quiet.logged()).toEqual([]);
  });

  it('answers a write the disk refused with 507 insufficient_storage, from a file or the database, and logs why', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    // As drizzle wraps what the PGlite worker or node-postgres raised when a file could not be extended.
    const dbFull = new Error('Failed query: insert into "commands" …', {
      cause: Object.assign(new Error('could not extend file "base/5/16513": No space left on device'), { code: '53100' }),
    });
    for (const err of [enospc, dbFull]) {
      const t = appThrowing(err);
      const res = await t.request();
      expect([res.status, await res.json()]).toEqual([
        507,
        { error: { code: 'insufficient_storage', message: errorCatalog[507].insufficient_storage } },
      ]);
      const [line] = t.logged();
      expect(line?.msg).toBe('disk full');
      expect(line?.err?.stack).toMatch(/ENOSPC|could not extend file/);
    }
  });

  it('answers a database that cannot be reached or dropped the connection with 503 unavailable, and logs why', async () => {
    const wrapped = (cause: Error) => new Error('Failed query: select 1', { cause });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    const cases = [
      wrapped(refused),
      wrapped(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })),
      wrapped(Object.assign(new Error('the database system is starting up'), { code: '57P03' })),
      wrapped(new Error('Client has encountered a connection error and is not queryable')),
      wrapped(new Error('Connection terminated unexpectedly')),
    ];
    for (const err of cases) {
      const t = appThrowing(err);
      const res = await t.request();
      expect([res.status, await res.json()]).toEqual([
        503,
        { error: { code: 'unavailable', message: 'the database cannot be reached; retry once it is back' } },
      ]);
      expect(t.logged()[0]?.msg).toBe('database unreachable');
    }
    // Any other failed query stays a bug.
    const bug = await appThrowing(wrapped(Object.assign(new Error('syntax error at or near "selec"'), { code: '42601' }))).request();
    expect(bug.status).toBe(500);
  });
});
