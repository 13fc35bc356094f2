// A test server for the key suites that keeps every log line (at debug level) and every API
// response body, so a test can grep them for key material.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type PosfleetServer, type StartedServer } from '../../server/app.ts';
import { seedServerPglite } from '../helpers/pgliteTemplate.ts';
import { configSchema, type Config } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { createKeysModule } from '../../server/keys/keysModule.ts';
import { TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN } from '../helpers/testServer.ts';
import { createScratchPostgres } from '../helpers/databases.ts';

export interface KeyTestServer {
  server: PosfleetServer;
  started: StartedServer;
  config: Config;
  url: string;
  dataDir: string;
  logLines: string[];
  responses: string[];
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
  keys(): ReturnType<typeof createKeysModule>['internals'];
  /** Stops and starts the server on the same data dir and database; `env` overrides config (e.g. KEY_VAULT_MASTER_KEY). */
  restart(env?: Partial<Config>): Promise<void>;
  stop(): Promise<void>;
}

export async function startKeyTestServer(opts: { database?: 'pglite' | 'postgres'; env?: Record<string, string> } = {}): Promise<KeyTestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'posfleet-keys-'));
  const pg = opts.database === 'postgres' && process.env.DATABASE_URL ? await createScratchPostgres(process.env.DATABASE_URL) : undefined;
  let config = configSchema.parse({
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ENROLL_TOKEN: TEST_ENROLL_TOKEN,
    LOG_LEVEL: 'debug',
    FLUSH_INTERVAL_MS: '200',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...opts.env,
  });
  const logLines: string[] = [];
  const responses: string[] = [];
  const log = () => createLogger('debug', { write: (s: string) => void logLines.push(s) });
  if (!config.DATABASE_URL) await seedServerPglite(config.DATA_DIR);
  let server = createServer(config, { log: log() });
  let started = await server.start();
  config = { ...config, HTTP_PORT: started.httpPort, MQTT_PORT: started.mqttPort ?? config.MQTT_PORT };
  const t: KeyTestServer = {
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
    dataDir,
    logLines,
    responses,
    async api(method, path, body, token = TEST_ADMIN_TOKEN) {
      const res = await fetch(`${started.httpUrl}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      responses.push(text);
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    keys() {
      const m = server.parts.modules.find((x) => x.name === 'keys') as ReturnType<typeof createKeysModule> | undefined;
      if (!m) throw new Error('keys module not registered');
      return m.internals;
    },
    async restart(env) {
      await server.stop();
      if (env) config = { ...config, ...env };
      server = createServer(config, { log: log() });
      started = await server.start();
    },
    async stop() {
      await server.stop();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
