// Terminals enrolled with an empty publisher list learn a newly trusted key, follow a publisher
// key rotation (add new, later remove old) and move to a new broker address announced before the
// move, all without re-enrolling: real server restarts, real agents, real MQTT.
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStateStore } from '../../agent/stateStore.ts';
import { finalCommandStates } from '../../schemas/db.ts';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { runFleet, type FleetHandle } from '../../scripts/simulate/fleet.ts';
import { publisher, publishFirmware, rollout } from '../campaigns/otaHarness.ts';
import { eventually } from '../helpers/eventually.ts';
import { onDefaultServer, TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';

const DEVICES = 3;
const older = publisher.publicKeyBase64;
const newer = generatePublisherKey().publicKeyBase64;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

onDefaultServer(
  'trust updates without re-enrolling',
  (server) => {
    let fleet: FleetHandle | undefined;
    const stateDir = mkdtempSync(join(tmpdir(), 'pf-trust-'));
    const enrollments = () => fleet!.agents.map((d) => openStateStore(join(stateDir, d.serial)).loadEnrollment()!);
    const allConnected = (what: string) =>
      eventually(() => fleet!.progress().connected === DEVICES, {
        timeoutMs: 30_000,
        stepMs: 100,
        what: `${DEVICES} terminals connected ${what}`,
      });
    const pinnedEverywhere = (keys: string[]) =>
      eventually(() => enrollments().every((e) => JSON.stringify(e.trust.firmwarePublishers) === JSON.stringify(keys)), {
        timeoutMs: 30_000,
        stepMs: 100,
        what: `every terminal pinned ${keys.length} publisher key(s)`,
      });

    beforeAll(async () => {
      fleet = await runFleet({
        server: server().url,
        devices: DEVICES,
        enrollToken: TEST_ENROLL_TOKEN,
        adminToken: TEST_ADMIN_TOKEN,
        prefix: `TRUST${process.pid}`,
        stateDir,
        backoff: { initialMs: 50, maxMs: 300, factor: 2 },
        fwVersion: '1.0.0',
        log: pino({ level: 'silent' }),
      });
      await fleet.ready;
    }, 60_000);

    afterAll(async () => {
      await fleet?.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }, 60_000);

    it('a terminal enrolled with no publisher key learns the one trusted later and installs firmware it signed', async () => {
      const t: TestServer = server();
      await allConnected('at first');
      expect(enrollments().every((e) => e.trust.firmwarePublishers.length === 0)).toBe(true);
      // With no key trusted at all, an upload says which setting is missing.
      const refused = await publishFirmware(t, '1.0.1').catch((err: Error) => err.message);
      expect(refused).toMatch(
        /^firmware create: 422 .*"code":"bad_signature".*no firmware publisher key is trusted: set FIRMWARE_PUBLISHER_KEYS/,
      );

      await t.restart({ FIRMWARE_PUBLISHER_KEYS: older });
      await pinnedEverywhere([older]);
      const deviceId = fleet!.agents[0]!.deviceId!;
      // The terminal pins the key before its final ack reaches the server: read once that ack is in.
      const trustSets = await eventually(
        async () => {
          const cmds = await t.api<{ items: Array<{ type: string; state: string; createdBy: string | null }> }>(
            'GET',
            `/v1/devices/${deviceId}/commands`,
          );
          const sets = cmds.body.items.filter((c) => c.type === 'trust.set');
          return sets.every((c) => finalCommandStates.some((f) => f === c.state)) ? sets : null;
        },
        { what: 'the trust.set command final' },
      );
      expect(trustSets.map((c) => c.state)).toEqual(['succeeded']);
      // Only the server's own settings can change whom terminals trust, not an API caller.
      const pushed = await t.api<{ error: { code: string } }>('POST', `/v1/devices/${deviceId}/commands`, {
        type: 'trust.set',
        payload: { firmwarePublishers: [newer] },
      });
      expect(pushed.status).toBe(400);

      await allConnected('after the restart');
      const firmwareId = await publishFirmware(t, '1.0.1');
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
        name: 'learned key',
        firmwareId,
        target: { deviceIds: fleet!.agents.map((d) => d.deviceId!) },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 100,
        errorThreshold: 0,
      });
      expect(created.status).toBe(201);
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/start`)).status).toBe(200);
      const final = await eventually(
        async () => {
          const r = await rollout(t, created.body.id);
          return ['succeeded', 'failed', 'paused', 'cancelled'].includes(r.state) ? r : undefined;
        },
        { timeoutMs: 60_000, stepMs: 300, what: 'the rollout to be final' },
      );
      expect(final.state).toBe('succeeded');
    }, 120_000);

    it('a publisher key rotation reaches the fleet in two steps: add the new key, then remove the old', async () => {
      const t = server();
      await t.restart({ FIRMWARE_PUBLISHER_KEYS: `${older},${newer}` });
      await pinnedEverywhere([older, newer]);
      await t.restart({ FIRMWARE_PUBLISHER_KEYS: newer });
      await pinnedEverywhere([newer]);
    }, 120_000);

    it('a fleet told its next broker address before the move finds it after the move, and then keeps only it', async () => {
      const t = server();
      const oldUrl = t.started.mqttUrl;
      const port = await freePort();
      const newUrl = `mqtt://127.0.0.1:${port}`;
      await t.restart({ MQTT_FALLBACK_URLS: newUrl });
      await eventually(() => enrollments().every((e) => JSON.stringify(e.brokerUrls) === JSON.stringify([oldUrl, newUrl])), {
        timeoutMs: 30_000,
        stepMs: 100,
        what: 'every terminal pinned [old, new]',
      });

      await t.restart({ MQTT_PORT: String(port), MQTT_FALLBACK_URLS: '' });
      expect(t.started.mqttUrl).toBe(newUrl);
      await allConnected('on the new address');
      await eventually(() => enrollments().every((e) => JSON.stringify(e.brokerUrls) === JSON.stringify([newUrl])), {
        timeoutMs: 30_000,
        stepMs: 100,
        what: 'every terminal pinned [new]',
      });
    }, 120_000);
  },
  { env: { CAMPAIGN_RETRY_BASE_MS: '300', CAMPAIGN_TICK_MS: '200' } },
);
