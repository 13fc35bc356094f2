// The server's listening sockets, as the configuration asks: the broker on its MQTT, MQTTS and
// WebSocket ports, the API on HTTP or HTTPS, and the URLs terminals and users are told.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import type { MqttBroker } from './broker/mqttBroker.ts';
import type { Config } from './config.ts';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export const tlsFiles = (config: Config): TlsFiles | undefined =>
  config.TLS_CERT && config.TLS_KEY ? { cert: readFileSync(config.TLS_CERT), key: readFileSync(config.TLS_KEY) } : undefined;

/** The host put in the URLs handed out: a wildcard bind is reached on loopback. */
export const publicHost = (config: Config): string => (config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST);

export async function listenBroker(broker: MqttBroker, config: Config, tls: TlsFiles | undefined) {
  const mqttPort = config.TLS_ONLY ? undefined : await broker.listen(config.MQTT_PORT, config.HOST);
  const mqttsPort = tls ? await broker.listen(config.MQTTS_PORT, config.HOST, tls) : undefined;
  const wsPort =
    config.MQTT_WS_PORT !== undefined && !config.TLS_ONLY ? await broker.listenWebSocket(config.MQTT_WS_PORT, config.HOST) : undefined;
  // Terminals are told the TLS endpoint whenever there is one.
  const host = publicHost(config);
  const mqttUrl = mqttsPort !== undefined ? `mqtts://${host}:${mqttsPort}` : `mqtt://${host}:${mqttPort}`;
  return { mqttPort, mqttsPort, wsPort, mqttUrl };
}

/**
 * Connections the kernel holds for the API before it accepts them (capped by net.core.somaxconn).
 * Node's default of 511 overflowed when a rollout phase sent thousands of terminals to download
 * at once: each refused connect was retried by its terminal a second or more later, and many
 * downloads ran into their timeouts (73,000 listen overflows in one 10,000-terminal rollout).
 */
const HTTP_BACKLOG = 8192;

/** Serves the API; `created` is handed the server before it listens, so a failed listen is still closed at stop. */
export function listenHttp(
  fetch: (request: Request) => Response | Promise<Response>,
  config: Config,
  tls: TlsFiles | undefined,
  created: (server: HttpServer) => void,
): Promise<number> {
  return new Promise<number>((ok, fail) => {
    const server = (
      tls
        ? createAdaptorServer({ fetch, hostname: config.HOST, createServer: createHttpsServer, serverOptions: tls })
        : createAdaptorServer({ fetch, hostname: config.HOST, createServer: createHttpServer })
    ) as HttpServer;
    created(server);
    server.once('error', fail);
    server.listen({ port: config.HTTP_PORT, host: config.HOST, backlog: HTTP_BACKLOG }, () => {
      const address = server.address();
      if (address && typeof address === 'object') ok(address.port);
      else fail(new Error('the HTTP server has no port'));
    });
  });
}
