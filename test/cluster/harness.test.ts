// The cluster harness's parsers: an instance's ready block and HAProxy's counters. Its processes
// (kill -9 behind HAProxy, a restart on the same ports) are exercised by instanceDeath.test.ts;
// here, without processes, a cluster's scratch database exists until its stores are dropped.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseStat } from './harness/haproxyStats.ts';
import { parseReady } from './harness/instances.ts';
import { clusterPostgres, createClusterStores, POSTGRES_SERVER_URL } from './harness/stores.ts';

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

  it.skipIf(!clusterPostgres)('creates a scratch database of its own and drops it', async () => {
    const stores = await createClusterStores();
    expect(await databaseExists(stores.databaseName)).toBe(true);
    await stores.drop();
    expect(await databaseExists(stores.databaseName)).toBe(false);
  });
});
