// The cluster harness itself, before any cluster behaviour is tested with it: two real server
// processes over one PostgreSQL database and Redis, a real HAProxy in front. A CONNECT through
// the balancer is answered by a broker (a refusal of its bad password), the balancer's counters
// tell which instance took it, once one instance is killed the new connections all go to the
// other, and once it is restarted it takes its share again.
import mqtt from 'mqtt';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseStat } from './harness/haproxyStats.ts';
import { parseReady, startCluster } from './harness/instances.ts';
import { clusterPostgres, POSTGRES_SERVER_URL } from './harness/stores.ts';

/** The CONNACK return code of a CONNECT with a wrong password (0 if it was accepted). */
function connackCode(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev_cluster_probe',
      username: 'dev_cluster_probe',
      password: 'not-the-secret',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    const done = (outcome: () => void) => {
      client.end(true);
      outcome();
    };
    client.once('connect', () => done(() => resolve(0)));
    client.once('error', (err) => done(() => ('code' in err && typeof err.code === 'number' ? resolve(err.code) : reject(err))));
    client.once('close', () => done(() => reject(new Error('closed without a CONNACK'))));
  });
}

const NOT_AUTHORIZED = [4, 5];

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('cluster harness', () => {
  it('parses the ready block and the balancer counters', () => {
    const out =
      '{"level":30}\nposfleet ready\n  HTTP API   http://127.0.0.1:4100  (docs: http://127.0.0.1:4100/docs)\n  MQTT       mqtt://127.0.0.1:4200\n';
    expect(parseReady(out.slice(0, out.indexOf('  MQTT')))).toBeNull();
    expect(parseReady(out)).toEqual({ httpUrl: 'http://127.0.0.1:4100', httpPort: 4100, mqttPort: 4200 });
    const csv =
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n' +
      'mqtt_in,FRONTEND,,,0,1,4000,3,0,0,0,0,0,,,,,OPEN\n' +
      'mqtt,i1,0,0,0,1,,2,0,0,,0,,0,0,0,0,UP\n' +
      'mqtt,i2,0,0,1,1,,1,0,0,,0,,0,0,0,0,DOWN 1/2\n' +
      'mqtt,BACKEND,0,0,0,1,400,3,0,0,0,0,,0,0,0,0,UP\n';
    expect(parseStat(csv)).toEqual([
      { proxy: 'mqtt', name: 'i1', status: 'UP', current: 0, total: 2 },
      { proxy: 'mqtt', name: 'i2', status: 'DOWN', current: 1, total: 1 },
    ]);
  });

  it.skipIf(!clusterPostgres)(
    'routes MQTT through HAProxy to the instances, only to the living one after a kill -9, to both after a restart',
    async () => {
      const cluster = await startCluster({ n: 2 });
      try {
        const [a, b] = cluster.instances;
        if (!a || !b) throw new Error('two instances expected');
        expect(a.pid).not.toBe(b.pid);
        expect(await databaseExists(cluster.stores.databaseName)).toBe(true);
        await cluster.balancer.waitServers((s) => s.length === 2 && s.every((x) => x.status === 'UP'));

        // Both instances answer over HTTP through the balancer with the shared admin token.
        for (let k = 0; k < 2; k++) {
          const me = await fetch(`${cluster.httpUrl}/v1/me`, { headers: { authorization: `Bearer ${cluster.secrets.ADMIN_TOKEN}` } });
          expect(me.status).toBe(200);
        }

        // Round robin: two connections, one per instance, each refused by a broker.
        for (let k = 0; k < 2; k++) expect(NOT_AUTHORIZED).toContain(await connackCode(cluster.mqttPort));
        const before = await cluster.balancer.servers();
        expect(before.map((s) => [s.name, s.total])).toEqual([
          [a.id, 1],
          [b.id, 1],
        ]);

        await a.kill9();
        expect(a.isRunning()).toBe(false);
        await cluster.balancer.waitServers((s) => s.find((x) => x.name === a.id)?.status === 'DOWN', 5_000);

        for (let k = 0; k < 3; k++) expect(NOT_AUTHORIZED).toContain(await connackCode(cluster.mqttPort));
        const after = await cluster.balancer.servers();
        expect(after.map((s) => [s.name, s.status, s.total])).toEqual([
          [a.id, 'DOWN', 1],
          [b.id, 'UP', 4],
        ]);
        expect(NOT_AUTHORIZED).toContain(await connackCode(b.mqttPort));

        // Restarted on its ports, the killed instance is back in the pool without a balancer reload.
        const { mqttPort } = a;
        await cluster.restartInstance(a.id);
        expect(a.mqttPort).toBe(mqttPort);
        await cluster.balancer.waitServers((s) => s.every((x) => x.status === 'UP'), 5_000);
        for (let k = 0; k < 2; k++) expect(NOT_AUTHORIZED).toContain(await connackCode(cluster.mqttPort));
        expect((await cluster.balancer.servers()).find((s) => s.name === a.id)?.total).toBeGreaterThanOrEqual(2);
      } finally {
        await cluster.stop();
      }
      expect(await databaseExists(cluster.stores.databaseName)).toBe(false);
    },
    40_000,
  );
});
