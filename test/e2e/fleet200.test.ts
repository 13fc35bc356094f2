// End to end: 200 simulated terminals (the real agent, simulated hardware) enroll, report,
// are commanded as a batch, and some are revoked — through the real server, MQTT, Redis, DB.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

const N = 200;

describe('a simulated fleet of 200 terminals', () => {
  let t: TestServer;
  let fleet: FleetHandle;
  let stateDir: string;
  beforeAll(async () => {
    t = await startTestServer();
    // Not waiting for connections: the first test checks what `ready` leaves behind.
    ({ fleet, stateDir } = await startTestFleet(t, {
      devices: N,
      prefix: 'E2E',
      healthIntervalS: 2,
      faults: { paper: 0.05, garbage: 0.05 },
      faultTiming: { garbage: [0.2, 1] },
      backoff: { initialMs: 200, maxMs: 2000, factor: 2 },
      awaitConnected: false,
    }));
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('enrolls and connects every terminal, which then report health', async () => {
    expect(fleet.progress()).toMatchObject({ total: N, enrolled: N, connected: N, failed: 0 });
    const summary = await eventually(async () => {
      const r = await t.api<{ online: number; byStatus: Record<string, number> }>('GET', '/v1/fleet/summary');
      return r.body.online === N ? r.body : null;
    }, { timeoutMs: 20_000 });
    expect(summary.byStatus.enrolled).toBe(N);
    await eventually(async () => {
      const r = await t.api<{ items: { health: unknown }[] }>('GET', '/v1/devices?q=E2E&limit=500');
      return r.body.items.length === N && r.body.items.every((d) => d.health !== null);
    }, { timeoutMs: 20_000 });
    // The garbage-sending terminals were caught, not ingested.
    await eventually(async () => {
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      return /posfleet_messages_dropped_total\{reason="(bad_json|schema|too_large)"\} [1-9]/.test(metrics);
    }, { timeoutMs: 10_000 });
  });

  it('runs a diagnostics batch on the whole fleet and collects every result', async () => {
    const batch = await t.api<{ batchId: string; total: number }>('POST', '/v1/commands', { target: { filter: { q: 'E2E' } }, type: 'diag.run' });
    expect(batch.status).toBe(201);
    expect(batch.body.total).toBe(N);
    const status = await eventually(async () => {
      const r = await t.api<{ counts: Record<string, number> }>('GET', `/v1/command-batches/${batch.body.batchId}`);
      const finished = (r.body.counts.succeeded ?? 0) + (r.body.counts.failed ?? 0);
      return finished === N ? r.body.counts : null;
    }, { timeoutMs: 30_000, stepMs: 200 });
    expect(status.succeeded).toBeGreaterThan(N * 0.8);
  });

  it('revokes ten terminals: their links close and they stay out', async () => {
    const victims = fleet.agents.slice(0, 10).map((a) => a.deviceId!);
    for (const id of victims) expect((await t.api('POST', `/v1/devices/${id}/revoke`, { reason: 'e2e' })).status).toBe(200);
    await eventually(async () => {
      const r = await t.api<{ online: number }>('GET', '/v1/fleet/summary');
      return r.body.online === N - 10;
    }, { timeoutMs: 10_000 });
    // Their agents keep retrying with backoff and keep being refused.
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of victims) expect(t.server.parts.broker()!.isConnected(id)).toBe(false);
    const summary = await t.api<{ online: number }>('GET', '/v1/fleet/summary');
    expect(summary.body.online).toBe(N - 10);
  });
});
