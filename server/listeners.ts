// The server's listening sockets, as the configuration asks: the broker on its MQTT, MQTTS and
// WebSocket ports, the API on HTTP or HTTPS, and the URLs terminals and users are told.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { serve } from '@hono/node-server';
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

/** Serves the API; `created` is handed the server before it listens, so a failed listen is still closed at stop. */
export function listenHttp(
  fetch: (request: Request) => Response | Promise<Response>,
  config: Config,
  tls: TlsFiles | undefined,
  created: (server: HttpServer) => void,
): Promise<number> {
  return new Promise<number>((ok, fail) => {
    const listening = (info: { port: number }) => ok(info.port);
    const server = (
      tls
        ? serve({ fetch, port: config.HTTP_PORT, hostname: config.HOST, createServer: createHttpsServer, serverOptions: tls }, listening)
        : serve({ fetch, port: config.HTTP_PORT, hostname: config.HOST, createServer: createHttpServer }, listening)
    ) as HttpServer;
    created(server);
    server.once('error', fail);
  });
}
