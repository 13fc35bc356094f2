// The demo probes its default ports before it starts, and another process (a parallel demo, a
// broker starting) can take one between the probe and the listen: the demo then moves the port it
// picked itself to a free one instead of exiting, and a port the user set stays an error.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portToMove } from '../../scripts/demo/ports.ts';
import { configSchema } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startOrExit } from '../../server/startup.ts';
import { seedServerPglite } from '../helpers/pgliteTemplate.ts';
import { holdPort, release } from './demoProcess.ts';

describe('a demo port taken between the probe and the listen', () => {
  it('moves only a port the run picked itself', () => {
    expect(portToMove({ HTTP_PORT: 8080, MQTT_PORT: 1883 }, 8080)).toBe('HTTP_PORT');
    expect(portToMove({ HTTP_PORT: 8080, MQTT_PORT: 1883 }, 1883)).toBe('MQTT_PORT');
    expect(portToMove({ MQTT_PORT: 1883 }, 8080)).toBeUndefined();
  });

  const held: Array<Server | null> = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const s of held) await release(s);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('starts the server on the fallback the demo gives when its HTTP port is held [pglite]', async () => {
    const holder = await holdPort(0);
    held.push(holder);
    const address = holder?.address();
    if (!address || typeof address === 'string') throw new Error('no port held');
    const dataDir = mkdtempSync(join(tmpdir(), 'pf-port-taken-'));
    dirs.push(dataDir);
    await seedServerPglite(dataDir);
    const env = {
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      MQTT_PORT: '0',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
      LOG_LEVEL: 'silent',
    };
    const asked: number[] = [];
    const { server, started } = await startOrExit(configSchema.parse({ ...env, HTTP_PORT: String(address.port) }), createLogger('silent'), (taken) => {
      asked.push(taken);
      return configSchema.parse({ ...env, HTTP_PORT: '0' });
    });
    try {
      expect(asked).toEqual([address.port]);
      expect(started.httpPort).not.toBe(address.port);
      expect((await fetch(`${started.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
