// Starts a whole posfleet server for a test: free ports, its own data dir, its own BullMQ
// prefix on the real Redis, PGlite or (with DATABASE_URL) a fresh PostgreSQL database.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type PosfleetServer, type StartedServer } from '../../server/app.ts';
import { configSchema, type Config } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { createScratchPostgres } from './databases.ts';
import { seedServerPglite } from './pgliteTemplate.ts';

export const TEST_ADMIN_TOKEN = 'pf_test-admin-token-0123456789abcdef';
export const TEST_ENROLL_TOKEN = 'test-enroll-token-0123456789';

export interface TestServer {
  server: PosfleetServer;
  started: StartedServer;
  config: Config;
  url: string;
  api<T = unknown>(method: string, path: string, body?: unknown, opts?: { token?: string | null; headers?: Record<string, string>; raw?: BodyInit }): Promise<{ status: number; body: T; headers: Headers }>;
  stop(): Promise<void>;
  /** Stops and starts again on the same data, ports and database (a server restart). */
  restart(): Promise<void>;
}

export interface TestServerOptions {
  database?: 'pglite' | 'postgres';
  env?: Record<string, string>;
  dataDir?: string;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'posfleet-test-'));
  const postgresUrl = process.env.DATABASE_URL;
  if (opts.database === 'postgres' && !postgresUrl) throw new Error('DATABASE_URL is not set');
  const pg = opts.database === 'postgres' && postgresUrl ? await createScratchPostgres(postgresUrl) : undefined;
  let config = configSchema.parse({
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ENROLL_TOKEN: TEST_ENROLL_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    FLUSH_INTERVAL_MS: '200',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...opts.env,
  });
  if (!config.DATABASE_URL) await seedServerPglite(config.DATA_DIR);
  let server = createServer(config, { log: createLogger(config.LOG_LEVEL) });
  let started = await server.start();
  // A restart must come back on the same ports: devices know only those.
  config = {
    ...config,
    HTTP_PORT: started.httpPort,
    MQTT_PORT: started.mqttPort ?? config.MQTT_PORT,
    MQTTS_PORT: started.mqttsPort ?? config.MQTTS_PORT,
    MQTT_WS_PORT: started.wsPort ?? config.MQTT_WS_PORT,
  };

  const t: TestServer = {
    get server() {
      return server;
    },
    get started() {
      return started;
    },
    config,
    get url() {
      return started.httpUrl;
    },
    async api<T>(method: string, path: string, body?: unknown, o: { token?: string | null; headers?: Record<string, string>; raw?: BodyInit } = {}) {
      const token = o.token === undefined ? TEST_ADMIN_TOKEN : o.token;
      const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers };
      let payload: BodyInit | undefined = o.raw;
      if (body !== undefined) {
        headers['content-type'] ??= 'application/json';
        payload = JSON.stringify(body);
      }
      const res = await fetch(`${started.httpUrl}${path}`, { method, headers, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON: keep text */
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    },
    async stop() {
      await server.stop();
      await pg?.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await server.stop();
      server = createServer(config, { log: createLogger(config.LOG_LEVEL) });
      started = await server.start();
    },
  };
  return t;
}
