// `npm start`: the server on embedded defaults, configured from the environment.
import { createLogger } from './log.ts';
import { loadConfigOrExit, startOrExit } from './startup.ts';

export async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL);
  const { server, started } = await startOrExit(config, log);

  const lines = [
    `posfleet ready`,
    `  HTTP API   ${started.httpUrl}  (docs: ${started.httpUrl}/docs)`,
    `  MQTT       ${started.mqttUrl}${started.wsPort !== undefined ? `  (WebSocket: ws://${config.HOST}:${started.wsPort})` : ''}`,
    `  database   ${started.databaseKind === 'pglite' ? `PGlite in ${config.DATA_DIR}/db` : 'PostgreSQL (DATABASE_URL)'}`,
    `  redis      ${started.redis.url} (${started.redis.source})`,
  ];
  // Behind a balancer the URLs above are the public ones: say where this process itself listens.
  if (config.PUBLIC_HTTP_URL || config.PUBLIC_MQTT_URL || started.instanceId)
    lines.push(`  listening  HTTP port ${started.httpPort}${started.mqttPort !== undefined ? `, MQTT port ${started.mqttPort}` : ''}${started.mqttsPort !== undefined ? `, MQTTS port ${started.mqttsPort}` : ''}`);
  if (started.instanceId) lines.push(`  cluster    instance ${started.instanceId}`);
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
