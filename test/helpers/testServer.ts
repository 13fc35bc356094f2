// The one server starter of the tests: the production server (createServer) on free ports, its
// own data dir, its own BullMQ prefix on the real Redis, PGlite or a fresh PostgreSQL database.
//
//   const t = await startTestServer({ database: 'postgres', capture: true });
//   const r = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model });
//   await t.restart({ KEY_VAULT_MASTER_KEY: hex });   // same ports, data dir and database
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { createServer, type PosfleetServer, type StartedServer } from '../../server/app.ts';
import { configSchema, type Config } from '../../server/config.ts';
import { createLogger, type Logger } from '../../server/log.ts';
import { createApiClient, type Api } from './apiClient.ts';
import { createScratchPostgres, databaseKinds, requiredDatabaseUrl, truncateAll, type DatabaseKind } from './databases.ts';
import { seedServerPglite } from './pgliteTemplate.ts';

export const TEST_ADMIN_TOKEN = 'pf_test-admin-token-0123456789abcdef';
export const TEST_ENROLL_TOKEN = 'test-enroll-token-0123456789';

export interface TestServerOptions {
  /** Default PGlite. 'postgres' needs DATABASE_URL (a scratch database on that server) and throws without it. */
  database?: DatabaseKind;
  /** Environment settings over the test defaults, as strings like the real environment. */
  env?: Record<string, string>;
  /** Use this data dir (kept after stop) instead of a temporary one. */
  dataDir?: string;
  /** Keep every log line (at debug level) and every API answer, for tests that grep them for secrets. */
  capture?: boolean;
}

export interface TestServer {
  readonly server: PosfleetServer;
  readonly started: StartedServer;
  readonly config: Config;
  readonly url: string;
  readonly dataDir: string;
  /** Requests as the test admin unless `token` says otherwise. */
  api: Api;
  /** With `capture`: every log line and every answer `api` read, in order; empty otherwise. */
  readonly logLines: readonly string[];
  readonly responses: readonly string[];
  /** Stops and starts again on the same ports, data dir and database; `env` overrides settings from here on. */
  restart(env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'posfleet-test-'));
  const scratch = opts.database === 'postgres' ? await createScratchPostgres(requiredDatabaseUrl()) : undefined;
  let env: Record<string, string> = {
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ENROLL_TOKEN: TEST_ENROLL_TOKEN,
    LOG_LEVEL: opts.capture ? 'debug' : (process.env.TEST_LOG_LEVEL ?? 'silent'),
    FLUSH_INTERVAL_MS: '200',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...opts.env,
  };
  const logLines: string[] = [];
  const responses: string[] = [];
  const logger = (config: Config): Logger =>
    opts.capture ? createLogger(config.LOG_LEVEL, { write: (line: string) => void logLines.push(line) }) : createLogger(config.LOG_LEVEL);

  let config = configSchema.parse(env);
  if (!config.DATABASE_URL) await seedServerPglite(config.DATA_DIR);
  let server = createServer(config, { log: logger(config) });
  let started = await server.start();
  // A restart must come back on the same ports: devices know only those.
  env = {
    ...env,
    HTTP_PORT: String(started.httpPort),
    ...(started.mqttPort !== undefined ? { MQTT_PORT: String(started.mqttPort) } : {}),
    ...(started.mqttsPort !== undefined ? { MQTTS_PORT: String(started.mqttsPort) } : {}),
    ...(started.wsPort !== undefined ? { MQTT_WS_PORT: String(started.wsPort) } : {}),
  };
  config = configSchema.parse(env);

  return {
    get server() {
      return server;
    },
    get started() {
      return started;
    },
    get config() {
      return config;
    },
    get url() {
      return started.httpUrl;
    },
    dataDir,
    api: createApiClient({
      baseUrl: () => started.httpUrl,
      defaultToken: TEST_ADMIN_TOKEN,
      onResponse: opts.capture ? (text) => void responses.push(text) : undefined,
    }),
    logLines,
    responses,
    async restart(overrides = {}) {
      await server.stop();
      env = { ...env, ...overrides };
      config = configSchema.parse(env);
      server = createServer(config, { log: logger(config) });
      started = await server.start();
    },
    async stop() {
      await server.stop();
      await scratch?.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const START_TIMEOUT_MS = 120_000;

/**
 * Registers `suite` once per engine (databaseKinds()) inside `describe("<name> [<engine>]")`,
 * with a server of its own started before and stopped after; `server()` is valid inside tests
 * and hooks.
 */
export function forEachServer(
  name: string,
  suite: (server: () => TestServer, kind: DatabaseKind) => void,
  opts: Omit<TestServerOptions, 'database'> = {},
): void {
  serverSuites(databaseKinds(), name, suite, opts);
}

/**
 * As forEachServer, on the embedded default (PGlite) only: for suites whose subject is not the
 * storage — a client of the HTTP API (the CLI), the demo's orchestration, agents' trust and
 * broker moves, the broker's packet limits, input fuzzing refused before any query — where a second engine would repeat the
 * same requests for the suite's whole run time. Storage behaviour is proven on both engines by
 * test/db and the domain suites that use forEachServer.
 */
export function onDefaultServer(
  name: string,
  suite: (server: () => TestServer, kind: DatabaseKind) => void,
  opts: Omit<TestServerOptions, 'database'> = {},
): void {
  serverSuites(['pglite'], name, suite, opts);
}

function serverSuites(
  kinds: DatabaseKind[],
  name: string,
  suite: (server: () => TestServer, kind: DatabaseKind) => void,
  opts: Omit<TestServerOptions, 'database'>,
): void {
  for (const kind of kinds) {
    describe(`${name} [${kind}]`, () => {
      let t: TestServer | undefined;
      beforeAll(async () => {
        t = await startTestServer({ ...opts, database: kind });
      }, START_TIMEOUT_MS);
      afterAll(() => t?.stop(), START_TIMEOUT_MS);
      suite(() => {
        if (!t) throw new Error('the server runs only inside tests and hooks');
        return t;
      }, kind);
    });
  }
}

/**
 * Empties every table of a running server and creates a first admin again; returns its token.
 * A new token each time: the server's token cache may still hold the previous admin's.
 */
export async function emptyServer(t: TestServer): Promise<string> {
  await truncateAll(t.server.parts.db);
  const admin = await t.server.parts.auth.bootstrapAdmin();
  if (!admin.token) throw new Error('no admin was created on the emptied database');
  return admin.token;
}
