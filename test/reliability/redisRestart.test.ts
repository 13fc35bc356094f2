// Redis stopped and started again empty (it keeps nothing on disk) under a server with connected
// terminals: commands created meanwhile are accepted within the server's 2 s bound on Redis,
// /readyz says 503, and once Redis is back every one of them reaches its terminal and succeeds,
// each delivered once. The small version of the chaos bench's redis-restart case
// (scripts/bench/chaos/redisRestart.ts), on a private redis-server: the shared one is never stopped.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/bench/chaos/privateRedis.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

const TERMINALS = 5;

let redis: PrivateRedis;
let t: TestServer;
beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await startTestServer({ env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await t?.stop();
  await redis?.stop();
});

it('delivers once every command accepted while Redis was away, after it comes back empty', async () => {
  const devices = await Promise.all(Array.from({ length: TERMINALS }, () => registerAndEnroll(t)));
  const terminals = await Promise.all(devices.map((d) => rawTerminal(d)));
  try {
    await eventually(async () => (await t.api('GET', '/readyz')).status === 200, { what: '/readyz 200 before' });
    await redis.stop();

    const started = performance.now();
    const created = await Promise.all(
      devices.map((d) => t.api<{ id: string }>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run', payload: {} })),
    );
    expect(created.map((r) => r.status)).toEqual(devices.map(() => 201));
    // Bounded by the server's own wait on Redis (2 s), with room for a slow machine.
    expect(performance.now() - started).toBeLessThan(6000);
    const ready = await t.api<{ checks: { redis: boolean } }>('GET', '/readyz');
    expect([ready.status, ready.body.checks.redis]).toEqual([503, false]);

    await redis.start();
    await eventually(
      async () => {
        const states = await Promise.all(
          created.map(
            async (c, i) => (await t.api<{ state: string }>('GET', `/v1/devices/${devices[i]!.deviceId}/commands/${c.body.id}`)).body.state,
          ),
        );
        return states.every((s) => s === 'succeeded') ? states : null;
      },
      { timeoutMs: 30_000, what: 'every accepted command succeeded' },
    );
    expect(terminals.map((term, i) => term.seen.filter((c) => c.id === created[i]!.body.id).length)).toEqual(devices.map(() => 1));
  } finally {
    for (const term of terminals) term.client.end(true);
  }
});
