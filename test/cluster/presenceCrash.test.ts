// A crashed instance's terminals, with real server processes: a terminal connected to i2 is
// online on i1; i2 is killed with SIGKILL; within a few seconds i1 shows it offline (fleet
// summary, device page, the stored row behind the online filter) with one offline entry on its
// timeline, and when the terminal reconnects to i1 it is online again. (A kill -9 followed at
// once by a restart under the same id: instanceDeath.test.ts.)
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { connectDevice, kekPublicKey, publish, uniqueSerial, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { createApiClient } from '../helpers/apiClient.ts';
import { startCluster, type ClusterInstance } from './harness/instances.ts';
import { clusterPostgres } from './harness/stores.ts';

interface DeviceView {
  online: boolean;
  connected: boolean;
}
interface Timeline {
  items: { kind: string; data: { reason?: string } | null }[];
}

describe.skipIf(!clusterPostgres)('presence after an instance crashes', () => {
  it('marks the terminals of a killed instance offline on the others within seconds, once, and online again where they reconnect', async () => {
    // A 10 s heartbeat timeout gives instance keys a 5 s TTL (server/cluster/cluster.ts livenessTtlMs).
    const cluster = await startCluster({ n: 2, env: { CLUSTER: 'true', FLUSH_INTERVAL_MS: '200', HEARTBEAT_TIMEOUT_S: '10' } });
    const clients: MqttClient[] = [];
    try {
      const [a, b] = cluster.instances;
      if (!a || !b) throw new Error('two instances expected');
      const api = <T>(
        i: ClusterInstance,
        method: string,
        path: string,
        body?: unknown,
        token: string | null = cluster.secrets.ADMIN_TOKEN,
      ) => createApiClient({ baseUrl: () => i.httpUrl })<T>(method, path, body, { token });
      const enroll = async (): Promise<EnrolledDevice> => {
        const serial = uniqueSerial('crash');
        expect((await api(a, 'POST', '/v1/devices', { serial, model: 'PAX-A920' })).status).toBe(201);
        const res = await api<{ deviceId: string; mqtt: { password: string } }>(
          a,
          'POST',
          '/v1/enroll',
          { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: cluster.secrets.ENROLL_TOKEN },
          null,
        );
        expect(res.status).toBe(201);
        return { deviceId: res.body.deviceId, serial, password: res.body.mqtt.password, mqttUrl: '' };
      };
      const connectTo = async (i: ClusterInstance, d: EnrolledDevice) => {
        const client = await connectDevice({ ...d, mqttUrl: `mqtt://127.0.0.1:${i.mqttPort}` });
        clients.push(client);
        await publish(client, topicFor(d.deviceId, 'state'), { online: true, fwVersion: '1.0.0', ts: Date.now() }, 1, true);
        return client;
      };
      const view = async (i: ClusterInstance, id: string) => (await api<DeviceView>(i, 'GET', `/v1/devices/${id}`)).body;
      const offlineEntries = async (id: string) =>
        (await api<Timeline>(a, 'GET', `/v1/devices/${id}/timeline`)).body.items.filter((e) => e.kind === 'offline');
      const onlineIds = async () =>
        (await api<{ items: { id: string }[] }>(a, 'GET', '/v1/devices?online=true')).body.items.map((x) => x.id);

      const onB = await enroll();
      const onA = await enroll();
      await connectTo(b, onB);
      await connectTo(a, onA);
      await eventually(async () => (await view(a, onB.deviceId)).online, { what: "i2's terminal online on i1" });
      await eventually(async () => (await onlineIds()).includes(onB.deviceId), { what: "i2's row stored online" });
      expect((await api<{ online: number }>(a, 'GET', '/v1/fleet/summary')).body.online).toBe(2);

      await b.kill9();
      const killedAt = Date.now();
      await eventually(async () => !(await view(a, onB.deviceId)).online, { what: 'offline on i1', timeoutMs: 10_000, stepMs: 100 });
      // The instance key's TTL (5 s) plus one heartbeat: far within HEARTBEAT_TIMEOUT_S.
      expect(Date.now() - killedAt).toBeLessThan(8_000);
      expect((await api<{ online: number }>(a, 'GET', '/v1/fleet/summary')).body.online).toBe(1);
      expect((await view(a, onA.deviceId)).online).toBe(true);
      await eventually(async () => !(await onlineIds()).includes(onB.deviceId), { what: 'row written offline' });
      const entries = await eventually(
        async () => {
          const e = await offlineEntries(onB.deviceId);
          return e.length ? e : null;
        },
        { what: 'offline on the timeline' },
      );
      expect(entries.map((e) => e.data?.reason)).toEqual(['timeout']);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await offlineEntries(onB.deviceId)).toHaveLength(1);

      // The terminal comes back on the living instance.
      await connectTo(a, onB);
      await eventually(async () => (await view(a, onB.deviceId)).online, { what: 'online again on i1' });
      await eventually(async () => (await onlineIds()).includes(onB.deviceId), { what: 'row online again' });
    } finally {
      for (const c of clients) c.end(true);
      await cluster.stop();
    }
  }, 150_000);
});
