// A rollout in a cluster of two real server processes behind HAProxy, agents spread over both:
// the instance that starts a rollout leads it (its PostgreSQL lease); a pause through the other
// instance reaches the leader, which stores the change with its audit entry (a refused entry
// answers 500 and the rollout runs on); a leader whose lease session is cut while it lives lets go of its
// rollout, which still ends with one install per terminal. (A leader killed with SIGKILL:
// rollout.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet, type FleetHandle } from '../../scripts/simulate/fleet.ts';
import { campaignLease } from '../../server/campaigns/campaignLeadership.ts';
import { HOLDER_SQL, LEASE_SPACE, instanceOfApp } from '../../server/cluster/leases.ts';
import type { RolloutDevice, RolloutView } from '../campaigns/otaHarness.ts';
import { publisher } from '../campaigns/otaHarness.ts';
import { signedImage } from '../firmware/signedImage.ts';
import { eventually } from '../helpers/eventually.ts';
import { createApiClient } from '../helpers/apiClient.ts';
import { startCluster, type Cluster, type ClusterInstance } from './harness/instances.ts';
import { clusterPostgres } from './harness/stores.ts';
import { refuseAuditOver } from '../audit/refuseAudit.ts';

const FLEET = 50;

describe.skipIf(!clusterPostgres)('campaign leadership across instances', () => {
  let cluster: Cluster;
  let fleet: FleetHandle;
  let stateDir: string;
  let fw2: string;
  let db: pg.Client;
  let a: ClusterInstance;
  let b: ClusterInstance;

  const api = <T>(i: ClusterInstance, method: string, path: string, body?: unknown, raw?: Buffer) =>
    createApiClient({ baseUrl: () => i.httpUrl, defaultToken: cluster.secrets.ADMIN_TOKEN })<T>(
      method,
      path,
      body,
      raw ? { raw: new Uint8Array(raw), headers: { 'content-type': 'application/octet-stream' } } : {},
    );
  const rollout = async (i: ClusterInstance, id: string) => {
    const r = await api<RolloutView>(i, 'GET', `/v1/rollouts/${id}`);
    expect(r.status).toBe(200);
    return r.body;
  };
  const devicesOf = async (i: ClusterInstance, id: string) =>
    (await api<{ items: RolloutDevice[] }>(i, 'GET', `/v1/rollouts/${id}/devices?limit=500`)).body.items;
  const leaderOf = async (id: string) =>
    instanceOfApp((await db.query<{ app: string }>(HOLDER_SQL, [LEASE_SPACE, campaignLease(id)])).rows[0]?.app);
  const sentOrDone = (r: RolloutView) => Object.entries(r.counts).reduce((n, [state, k]) => n + (state === 'pending' ? 0 : (k ?? 0)), 0);
  const publish = async (i: ClusterInstance, version: string) => {
    const { image, manifest, signature } = signedImage(publisher, 64 * 1024, version, ['PAX-A920']);
    const fw = await api<{ id: string }>(i, 'POST', '/v1/firmware', { manifest, signature });
    expect(fw.status).toBe(201);
    expect((await api(i, 'PUT', `/v1/firmware/${fw.body.id}/content`, undefined, image)).status).toBe(200);
    return fw.body.id;
  };
  const createRollout = async (i: ClusterInstance, name: string, deviceIds: string[], maxPerMinute: number, firmwareId = fw2) => {
    const created = await api<{ id: string }>(i, 'POST', '/v1/rollouts', {
      name,
      firmwareId,
      target: { deviceIds },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 90,
      errorThreshold: 10,
      rate: { maxPerMinute },
    });
    expect(created.status).toBe(201);
    return created.body.id;
  };

  beforeAll(async () => {
    cluster = await startCluster({
      n: 2,
      env: {
        CLUSTER: 'true',
        FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64,
        CAMPAIGN_RETRY_BASE_MS: '300',
        CAMPAIGN_TICK_MS: '200',
        FLUSH_INTERVAL_MS: '200',
      },
    });
    [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
    db = new pg.Client({ connectionString: cluster.stores.databaseUrl });
    await db.connect();
    fw2 = await publish(a, '2.0.0');
    stateDir = mkdtempSync(join(tmpdir(), 'posfleet-fleet-'));
    // Through the balancer: terminals land on both instances and move to the living one.
    fleet = await runFleet({
      server: cluster.httpUrl,
      enrollToken: cluster.secrets.ENROLL_TOKEN,
      adminToken: cluster.secrets.ADMIN_TOKEN,
      stateDir,
      devices: FLEET,
      prefix: `LEAD${Date.now().toString(36)}`,
      healthIntervalS: 30,
      fwVersion: '1.0.0',
      concurrency: 25,
      backoff: { initialMs: 50, maxMs: 500, factor: 2 },
      log: pino({ level: 'silent' }),
    });
    await fleet.ready;
    await eventually(() => fleet.agents.every((x) => x.status === 'connected'), { timeoutMs: 30_000, what: 'every agent connected' });
  }, 180_000);

  afterAll(async () => {
    await fleet?.stop();
    await db?.end();
    await cluster?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('pauses, resumes and cancels through the other instance a rollout its starter leads', async () => {
    const ids = fleet.agents.slice(0, 10).map((x) => x.deviceId!);
    const id = await createRollout(a, 'paused through b', ids, 30);
    expect((await api(a, 'POST', `/v1/rollouts/${id}/start`)).status).toBe(200);
    expect(await leaderOf(id)).toBe('i1');
    await eventually(async () => sentOrDone(await rollout(a, id)) >= 1, { what: 'a first send' });

    // The leader writes the entry with the change: refused there, the pause asked of b is a 500
    // and the rollout runs on.
    const lift = await refuseAuditOver(db, 'rollout.pause');
    try {
      expect((await api(b, 'POST', `/v1/rollouts/${id}/pause`)).status).toBe(500);
      expect((await rollout(a, id)).state).toBe('running');
    } finally {
      await lift();
    }

    const paused = await api<RolloutView>(b, 'POST', `/v1/rollouts/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    // The leader itself stopped: it answers paused from its memory and sends nothing more.
    const atPause = await rollout(a, id);
    expect(atPause.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sentOrDone(await rollout(a, id))).toBe(sentOrDone(atPause));
    expect(await leaderOf(id)).toBe('i1');

    const resumed = await api<RolloutView>(b, 'POST', `/v1/rollouts/${id}/resume`);
    expect(resumed.body.state).toBe('running');
    expect((await rollout(a, id)).state).toBe('running');
    await eventually(async () => sentOrDone(await rollout(a, id)) > sentOrDone(atPause), {
      what: 'sends after the resume',
      timeoutMs: 15_000,
    });

    const cancelled = await api<RolloutView>(b, 'POST', `/v1/rollouts/${id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    expect((await rollout(a, id)).state).toBe('cancelled');
    // A control of a finished campaign is refused wherever it is asked.
    const late = await api<{ error: { code: string } }>(b, 'POST', `/v1/rollouts/${id}/pause`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('invalid_state');
    const entries = (await api<{ items: { action: string; data: Record<string, unknown> }[] }>(a, 'GET', `/v1/audit?target=${id}`)).body
      .items;
    expect(entries.reverse().map((e) => [e.action, e.data.from, e.data.to])).toEqual([
      ['rollout.create', undefined, undefined],
      ['rollout.start', 'draft', 'running'],
      ['rollout.pause', 'running', 'paused'],
      ['rollout.resume', 'paused', 'running'],
      ['rollout.cancel', 'running', 'cancelled'],
    ]);
  }, 90_000);

  it('lets go of its campaigns at once when its lease session is cut while it lives, and the rollout still ends exactly', async () => {
    const i1 = a;
    const fw3 = await publish(b, '3.0.0');
    const agents = fleet.agents.slice(10);
    const ids = agents.map((x) => x.deviceId!);
    const installsBefore = agents.map((x) => x.agent!.stats().commands['ota.install'] ?? 0);
    const id = await createRollout(b, 'through a lost lease', ids, 300, fw3);
    expect((await api(b, 'POST', `/v1/rollouts/${id}/start`)).status).toBe(200);
    expect(await leaderOf(id)).toBe('i2');
    await eventually(async () => ((await rollout(i1, id)).counts.succeeded ?? 0) >= 5, { timeoutMs: 60_000, what: 'some devices done' });

    // The session PostgreSQL would end for a lost host: i2 lives on, but its locks are gone.
    const cut = await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'posfleet-lease:i2' and datname = current_database()`,
    );
    expect(cut.rowCount).toBe(1);
    await eventually(async () => (await leaderOf(id)) !== null, { timeoutMs: 10_000, stepMs: 100, what: 'a leader again' });

    const end = await eventually(
      async () => {
        const r = await rollout(i1, id);
        return r.state !== 'running' ? r : undefined;
      },
      { timeoutMs: 120_000, stepMs: 250, what: 'the rollout to end' },
    ).catch(async (err: unknown) => {
      console.log('DEBUG', JSON.stringify(await rollout(i1, id)), await leaderOf(id));
      console.log('DEBUG devs', JSON.stringify((await devicesOf(i1, id)).filter((d) => d.state !== 'succeeded')));
      for (const i of cluster.instances)
        console.log(
          'DEBUG log',
          i.id,
          i
            .logs()
            .split('\n')
            .filter((l) => /lease|campaign|leading/i.test(l))
            .slice(-30)
            .join('\n'),
        );
      throw err;
    });
    expect(end.state).toBe('succeeded');
    expect(end.counts).toEqual({ succeeded: ids.length });
    const devs = await devicesOf(i1, id);
    expect(devs.every((d) => d.attempt === 1 && d.reportedVersion === '3.0.0')).toBe(true);
    const perDevice = await db.query<{ n: string }>(
      `select count(*) as n from commands where type = 'ota.install' and payload->>'campaignId' = $1 group by device_id`,
      [id],
    );
    expect(perDevice.rows).toHaveLength(ids.length);
    expect(perDevice.rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(agents.map((x, n) => (x.agent!.stats().commands['ota.install'] ?? 0) - installsBefore[n]!)).toEqual(agents.map(() => 1));
  }, 240_000);
});
