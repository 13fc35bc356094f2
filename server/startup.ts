// Starting a server from a command line (npm start, npm run demo): configuration and start-up
// failures become one clear message and an exit code, not a stack trace.
import { createServer, type PosfleetServer, type StartedServer } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { DatabaseUnavailableError } from './db/databaseErrors.ts';
import { RedisUnavailableError } from './jobs/redisResolver.ts';
import type { Logger } from './log.ts';

export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * What to start with instead when a port turns out to be taken at listen time, or undefined to
 * give up: the demo probes its default ports before it starts, and another process can take one
 * between the probe and the listen.
 */
export type TakenPortFallback = (port: number) => Config | undefined;

export async function startOrExit(
  config: Config,
  log: Logger,
  onPortTaken: TakenPortFallback = () => undefined,
): Promise<{ server: PosfleetServer; started: StartedServer }> {
  const server = createServer(config, { log });
  try {
    return { server, started: await server.start() };
  } catch (err) {
    if (err instanceof DatabaseUnavailableError) {
      process.stderr.write(`DATABASE_URL: ${err.message}\n`);
      process.exit(5);
    }
    if (err instanceof RedisUnavailableError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    const e = err as { code?: string; port?: number; address?: string };
    if (e.code === 'EADDRINUSE') {
      // A failed start leaves nothing listening, so a second server can start in the same process.
      const instead = e.port === undefined ? undefined : onPortTaken(e.port);
      if (instead) return startOrExit(instead, log, onPortTaken);
      process.stderr.write(
        `port ${e.port} on ${e.address} is already in use. Set HTTP_PORT / MQTT_PORT / MQTTS_PORT to free ports ` +
          `(another MQTT broker, such as Mosquitto, often holds 1883).\n`,
      );
      process.exit(4);
    }
    throw err;
  }
}
