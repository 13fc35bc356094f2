// `npm start`: the server on embedded defaults, configured from the environment.
import { createServer } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { RedisUnavailableError } from './jobs/redisResolver.ts';
import { createLogger } from './log.ts';

export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const server = createServer(config, { log });
  let started;
  try {
    started = await server.start();
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    const e = err as { code?: string; port?: number; address?: string };
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(
        `port ${e.port} on ${e.address} is already in use. Set HTTP_PORT / MQTT_PORT / MQTTS_PORT to free ports ` +
          `(another MQTT broker, such as Mosquitto, often holds 1883).\n`,
      );
      process.exit(4);
    }
    throw err;
  }

  const lines = [
    `posfleet ready`,
    `  HTTP API   ${started.httpUrl}  (docs: ${started.httpUrl}/docs)`,
    `  MQTT       ${started.mqttUrl}${started.wsPort !== undefined ? `  (WebSocket: ws://${config.HOST}:${started.wsPort})` : ''}`,
    `  database   ${started.databaseKind === 'pglite' ? `PGlite in ${config.DATA_DIR}/db` : 'PostgreSQL (DATABASE_URL)'}`,
    `  redis      ${started.redis.url} (${started.redis.source})`,
  ];
  if (started.adminToken) lines.push('', `  admin token (shown once, keep it): ${started.adminToken}`);
  if (started.enrollTokenCreated) lines.push(`  enrollment token (also in ${config.DATA_DIR}/enroll.token): ${started.enrollToken}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      log.warn('second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`posfleet failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
