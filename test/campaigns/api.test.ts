// The rollout API's edges: validation, errors, paging, OpenAPI, metrics, audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndEnroll } from '../helpers/devices.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { onePhaseRollout, publishFirmware, startOtaServer } from './otaHarness.ts';

describe('rollout API', () => {
  let t: TestServer;
  let fw = '';
  let dev = '';
  const body = () => onePhaseRollout('r', fw, [dev]);

  beforeAll(async () => {
    t = await startOtaServer();
    fw = await publishFirmware(t, '3.0.0', 1024);
    dev = (await registerAndEnroll(t)).deviceId;
  });
  afterAll(async () => t?.stop());

  it('validates the request with field paths', async () => {
    const bad = await t.api<{ error: { code: string; details: { path: string }[] } }>('POST', '/v1/rollouts', {
      ...body(),
      phases: [{ name: 'a', percent: 50 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.some((d) => d.path === 'phases')).toBe(true);
    const unknown = await t.api<{ error: { code: string } }>('POST', '/v1/rollouts', { ...body(), firmwareId: 'fw_nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_firmware');
    const devices = await t.api<{ error: { code: string } }>('POST', '/v1/rollouts', { ...body(), target: { deviceIds: ['dev_nope'] } });
    expect(devices.status).toBe(400);
    expect((await t.api('GET', '/v1/rollouts/cmp_nope')).status).toBe(404);
    expect((await t.api('POST', '/v1/rollouts', body(), { token: null })).status).toBe(401);
  });

  it('creates drafts idempotently with an Idempotency-Key, pages them, and audits controls', async () => {
    const a = await t.api<{ id: string }>('POST', '/v1/rollouts', body(), { headers: { 'idempotency-key': 'k1' } });
    const b = await t.api<{ id: string }>('POST', '/v1/rollouts', body(), { headers: { 'idempotency-key': 'k1' } });
    expect(a.status).toBe(201);
    expect(b.body.id).toBe(a.body.id);
    await t.api('POST', '/v1/rollouts', { ...body(), name: 'second' });
    const page1 = await t.api<{ items: { id: string }[]; nextCursor: string | null }>('GET', '/v1/rollouts?limit=1');
    expect(page1.body.items).toHaveLength(1);
    const page2 = await t.api<{ items: { id: string }[] }>(
      'GET',
      `/v1/rollouts?limit=1&cursor=${encodeURIComponent(page1.body.nextCursor!)}`,
    );
    expect(page2.body.items[0]!.id).not.toBe(page1.body.items[0]!.id);
    expect((await t.api<{ state: string }>('POST', `/v1/rollouts/${a.body.id}/cancel`)).body.state).toBe('cancelled');
    expect((await t.api('POST', `/v1/rollouts/${a.body.id}/start`)).status).toBe(409);
    const audit = await t.api<{ items: { action: string }[] }>('GET', `/v1/audit?target=${a.body.id}`);
    expect(audit.body.items.map((i) => i.action).sort()).toEqual(['rollout.cancel', 'rollout.create']);
  });

  it('documents the routes in OpenAPI and exports rollout metrics', async () => {
    const doc = await t.api<{ paths: Record<string, unknown> }>('GET', '/openapi.json', undefined, { token: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/firmware', '/v1/firmware/{id}/content', '/v1/rollouts', '/v1/rollouts/{id}', '/v1/rollouts/{id}/devices', '/v1/rollouts/{id}/start']),
    );
    const started = await t.api<{ id: string }>('POST', '/v1/rollouts', { ...body(), name: 'metrics' });
    await t.api('POST', `/v1/rollouts/${started.body.id}/start`);
    const metrics = await fetch(`${t.url}/metrics`);
    const text = await metrics.text();
    expect(text).toContain('posfleet_campaign_devices{');
    expect(text).toContain('posfleet_campaign_phases_started');
  });

  it('streams campaign events on /v1/stream', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${t.url}/v1/stream?types=campaign`, {
      headers: { authorization: 'Bearer pf_test-admin-token-0123456789abcdef' },
      signal: ctrl.signal,
    });
    const reader = res.body!.getReader();
    // Subscribed once the hello is out.
    let text = new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('event: hello');
    const created = await t.api<{ id: string }>('POST', '/v1/rollouts', { ...body(), target: { filter: { model: 'PAX-A920' } }, name: 'streamed' });
    expect(created.status).toBe(201);
    const until = Date.now() + 10_000;
    while (!text.includes(created.body.id) && Date.now() < until) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    expect(text).toContain('event: campaign.updated');
    expect(text).toContain(created.body.id);
  });
});
