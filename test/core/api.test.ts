// The control plane's conventions: ops endpoints, OpenAPI, error shape, paging and filters,
// CSV import, body limits, the live stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll, uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

describe('control-plane API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { HTTP_BODY_LIMIT_BYTES: '65536' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers health, readiness, metrics, the OpenAPI document and the docs page', async () => {
    expect((await t.api('GET', '/healthz', undefined, { token: null })).body).toEqual({ status: 'ok' });
    const ready = await t.api<{ status: string; checks: Record<string, boolean> }>('GET', '/readyz', undefined, { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: true, redis: true, mqtt: true });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    for (const name of ['posfleet_connected_devices', 'posfleet_messages_in_total', 'posfleet_queue_depth', 'posfleet_event_loop_lag_p99_seconds']) {
      expect(metrics).toContain(name);
    }
    // Counted off the event loop, and a real count: the server holds its sockets and files open.
    const openFds = Number(/^posfleet_process_open_fds (\d+)$/m.exec(metrics)?.[1]);
    expect(openFds).toBeGreaterThan(5);
    const doc = await t.api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json', undefined, { token: null });
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/enroll', '/v1/devices', '/v1/devices/{id}/commands', '/v1/commands', '/v1/users', '/v1/audit']));
    const docs = await fetch(`${t.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('answers every error with {error: {code, message}} and the right status', async () => {
    const noToken = await t.api<{ error: { code: string } }>('GET', '/v1/devices', undefined, { token: null });
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe('unauthorized');
    const badToken = await t.api('GET', '/v1/devices', undefined, { token: 'pf_nope' });
    expect(badToken.status).toBe(401);
    const notFound = await t.api<{ error: { code: string; message: string } }>('GET', '/v1/nowhere');
    expect(notFound.status).toBe(404);
    expect(notFound.body.error.code).toBe('not_found');
    const badJson = await t.api<{ error: { code: string } }>('POST', '/v1/devices', undefined, { raw: '{"serial":', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    const badBody = await t.api<{ error: { code: string; details: { path: string }[] } }>('POST', '/v1/devices', { serial: 'has space', model: '' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.details.map((d) => d.path).sort()).toEqual(['model', 'serial']);
    const big = await t.api<{ error: { code: string } }>('POST', '/v1/devices/import', undefined, { raw: `serial,model\n${'A-1,M\n'.repeat(20_000)}`, headers: { 'content-type': 'text/csv' } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const dup = uniqueSerial();
    await t.api('POST', '/v1/devices', { serial: dup, model: 'M' });
    const again = await t.api<{ error: { code: string } }>('POST', '/v1/devices', { serial: dup, model: 'M' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('serial_exists');
  });

  it('imports a CSV, reports skipped and bad lines, and lists with filters and cursor paging', async () => {
    const prefix = uniqueSerial('IMP');
    const lines = Array.from({ length: 25 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')},${i % 2 ? 'PAX-A920' : 'VX-520'},north`);
    const csv = `serial,model,region\n${lines.join('\n')}\n${prefix}-00,PAX-A920,dup\nbad serial!,X,\n`;
    const first = await t.api<{ created: number; skipped: unknown[]; errors: { line: number }[] }>('POST', '/v1/devices/import', undefined, { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(25);
    expect(first.body.errors.map((e) => e.line)).toEqual([27, 28]);
    const second = await t.api<{ created: number; skipped: { reason: string }[] }>('POST', '/v1/devices/import', undefined, { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(second.body.created).toBe(0);
    expect(second.body.skipped).toHaveLength(25);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/devices?q=${encodeURIComponent(prefix)}&model=VX-520&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.api<{ items: { serial: string; model: string; labels: Record<string, string> }[]; nextCursor: string | null }>('GET', q);
      expect(page.status).toBe(200);
      for (const d of page.body.items) {
        expect(d.model).toBe('VX-520');
        expect(d.labels).toEqual({ region: 'north' });
        seen.push(d.serial);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(13);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(13);
  });

  it('filters by presence and streams live events over SSE', async () => {
    const d = await registerAndEnroll(t);
    const res = await fetch(`${t.url}/v1/stream?types=device.presence`, { headers: { authorization: `Bearer ${t.config.ADMIN_TOKEN}` } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const client = await connectDevice(d);
    await publish(client, topicFor(d.deviceId, 'state'), { online: true, ts: Date.now() }, 1, true);
    const until = Date.now() + 5000;
    while (!text.includes(d.deviceId) && Date.now() < until) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('event: device.presence');
    expect(text).toContain(`"deviceId":"${d.deviceId}","online":true`);

    const online = await eventually(async () => {
      const r = await t.api<{ items: { id: string }[] }>('GET', `/v1/devices?online=true&q=${d.serial}`);
      return r.body.items.length === 1 ? r.body.items : null;
    });
    expect(online[0]!.id).toBe(d.deviceId);
    const summary = await t.api<{ online: number; byStatus: Record<string, number> }>('GET', '/v1/fleet/summary');
    expect(summary.body.online).toBeGreaterThanOrEqual(1);
    client.end(true);
  });
});
