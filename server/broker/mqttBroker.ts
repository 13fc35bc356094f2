// The embedded MQTT broker: aedes with our authentication and the publish checks of
// publishChecks.ts (rate, ACL, size, JSON, schema), which hand valid device messages to ingest
// synchronously; nothing here touches the database. aedes hooks are callback-style and every
// path calls back exactly once.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { topicFor } from '../../schemas/wire.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import { ConnectRefused } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { mayDeviceSubscribe } from './acl.ts';
import { createConnectAdmission } from './admissionControl.ts';
import type { BrokerEmitter } from './clusterEmitter.ts';
import type { AdmissionLimits } from './connectAdmission.ts';
import { GuardedConnection, PacketTooLarge } from './guardedConnection.ts';
import type { IngestSink } from './ingestSink.ts';
import { packetLimits } from './packetSizeGuard.ts';
import { createPublishChecks } from './publishChecks.ts';
import type { RateLimit } from './rateLimiter.ts';

export interface BrokerOptions {
  credentials: CredentialCache;
  sink: IngestSink;
  metrics: Metrics;
  log: Logger;
  rateLimit: RateLimit;
  floodDisconnectAfter: number;
  /** Authentications in progress and per second beyond which new connections get CONNACK 3 (admissionControl.ts); unbounded when absent. */
  admission?: AdmissionLimits;
  /** The message bus joining this broker to the others of a cluster (clusterEmitter.ts); aedes' in-process one when absent. */
  mq?: BrokerEmitter;
  /** aedes' broker id, which its $SYS topics carry: the instance's id in a cluster; random when absent. */
  id?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export interface MqttBroker {
  /** Plain MQTT over TCP, or MQTT over TLS when `tls` is given. */
  listen(port: number, host: string, tls?: TlsMaterial): Promise<number>;
  /** MQTT over WebSocket (subprotocol `mqtt`), for browser-based or firewalled clients. */
  listenWebSocket(port: number, host: string): Promise<number>;
  /** Publishes a command to a device (QoS 1). */
  sendCommand(deviceId: string, message: object): Promise<void>;
  isConnected(deviceId: string): boolean;
  /** Connected and subscribed to its command topic. */
  isCommandReady(deviceId: string): boolean;
  connectedCount(): number;
  disconnect(deviceId: string): void;
  close(): Promise<void>;
  aedes: Aedes;
}

/** aedes keeps a client's subscriptions on it; its typings leave the field out. */
type SessionClient = Client & { subscriptions: Record<string, unknown> };

// Dropped messages are rewritten to a topic nobody can subscribe to, so the connection
// stays up (aedes would close it on an authorizePublish error) and nothing is delivered.
const DROP_TOPIC = '$posfleet/dropped';
// So are accepted ones, once ingested: no client may subscribe to a terminal's telemetry (the ACL
// gives a terminal its own command topic alone), so routing them only matched their four-level
// topic against every subscription twice (aedes' offline queue and its emitter) for nobody.
const INGESTED_TOPIC = '$posfleet/ingested';

// A terminal sends its CONNECT right after the TCP (or TLS, or WebSocket) handshake; a socket
// silent this long after it opened, or whose CONNECT is still incomplete this long after its first
// bytes, is not one of ours and only holds a slot.
const CONNECT_TIMEOUT_MS = 5_000;

// Node's default accept queue (511) overflowed when a whole fleet came back at once: a handshake
// dropped there leaves the terminal's side established and its CONNECT retransmitted by TCP for
// up to its connect timeout, rather than answered (CONNACK 3 when over the admission limits). The
// kernel caps this at net.core.somaxconn (4096 on current Linux).
const LISTEN_BACKLOG = 4096;

export async function createMqttBroker(opts: BrokerOptions): Promise<MqttBroker> {
  const { metrics, log, sink } = opts;
  const clients = new Map<string, Client>();
  const commandReady = new Set<string>();
  const markReady = (id: string) => {
    commandReady.add(id);
    sink.commandReady(id);
  };
  const servers: Server[] = [];
  const admission = opts.admission && createConnectAdmission(opts.admission, (reason) => metrics.admissionRefused.inc({ reason }));
  const publishChecks = createPublishChecks({ sink, metrics, rateLimit: opts.rateLimit, floodDisconnectAfter: opts.floodDisconnectAfter });

  const aedes = await Aedes.createBroker({
    mq: opts.mq,
    id: opts.id,
    heartbeatInterval: 60_000,
    connectTimeout: CONNECT_TIMEOUT_MS,
    concurrency: 1000,
    drainTimeout: 30_000,
    authenticate(client, username, password, done) {
      const id = username ?? '';
      const secret = password?.toString() ?? '';
      opts.credentials.check(id, secret).then(
        (result) => {
          const outcome = result === 'ok' && client.id !== id ? 'client_id_mismatch' : result;
          metrics.connectsTotal.inc({ result: outcome });
          if (outcome === 'ok') return done(null, true);
          done(new ConnectRefused(outcome), false);
        },
        (err: unknown) => {
          log.error({ err }, 'credential check failed');
          metrics.connectsTotal.inc({ result: 'server_unavailable' });
          done(new ConnectRefused('server_unavailable', { cause: err }), false);
        },
      );
    },
    authorizeSubscribe(client, sub, done) {
      // Over the rate, refused (SUBACK 128) without the ACL's timeline entry: the rate has its own.
      if (client && !publishChecks.admitControl(client)) return done(null, null);
      if (client && mayDeviceSubscribe(client.id, sub.topic)) return done(null, sub);
      if (client) sink.rejected(client.id, 'acl', `subscription to ${sub.topic.slice(0, 200)} refused`);
      metrics.dropped.inc({ reason: 'acl_subscribe' });
      done(null, null);
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // an obsolete will of a device long gone: harmless
      packet.topic = publishChecks.admit(client, packet) ? INGESTED_TOPIC : DROP_TOPIC;
      // Nothing a device sends is retained. The server holds each device's latest state itself,
      // and no device may read another's topics: a retained copy would serve nobody, while aedes
      // scans every retained message on each SUBSCRIBE, which made a fleet-wide reconnect quadratic.
      packet.retain = false;
      done(null);
    },
  });

  aedes.on('client', (client) => {
    if (client.conn instanceof GuardedConnection) client.conn.authenticated();
    admission?.authenticated(client.conn);
    // A takeover (same client id reconnecting) leaves the newest connection as the device's.
    clients.set(client.id, client);
    metrics.connectedDevices.set(clients.size);
    sink.connected(client.id);
    // A persistent session restored before CONNACK already holds the subscription.
    if ((client as SessionClient).subscriptions[topicFor(client.id, 'cmd')]) markReady(client.id);
  });
  aedes.on('unsubscribe', (topics, client) => {
    // An UNSUBSCRIBE is answered before this; it still counts against a flood. A closing client
    // unsubscribes from everything too, which is no packet of its own.
    if (!client.closed) publishChecks.admitControl(client);
    if (clients.get(client.id) === client && topics.includes(topicFor(client.id, 'cmd'))) commandReady.delete(client.id);
  });
  aedes.on('subscribe', (subs, client) => {
    const cmdTopic = topicFor(client.id, 'cmd');
    if (clients.get(client.id) === client && subs.some((s) => s.topic === cmdTopic && (s.qos as number) !== 128)) markReady(client.id);
  });
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id) !== client) return;
    clients.delete(client.id);
    publishChecks.forget(client.id);
    commandReady.delete(client.id);
    metrics.connectedDevices.set(clients.size);
    sink.disconnected(client.id);
  });
  // PINGREQs count against the rate: each is answered, and a flood of them (two bytes each) kept
  // the event loop seconds behind and, unread, buffered 130 MB of answers.
  aedes.on('ping', (_packet, client) => publishChecks.admitControl(client) && sink.heard(client.id));
  aedes.on('clientError', (client, err) => {
    if (err instanceof PacketTooLarge) tooLarge(client, err);
    log.debug({ deviceId: client.id, err: err.message }, 'client error');
  });
  aedes.on('connectionError', (client, err) => {
    if (err instanceof PacketTooLarge) tooLarge(client, err);
    log.debug({ clientId: client.id, err: err.message }, 'connection error');
  });

  /** A connection closed by the packet size guard: on the device's timeline once it had authenticated. */
  function tooLarge(client: Client, err: PacketTooLarge) {
    if (!err.oversize.authenticated) return void metrics.connectsTotal.inc({ result: 'packet_too_large' });
    metrics.dropped.inc({ reason: 'too_large' });
    sink.rejected(client.id, 'too_large', `${err.message}: connection closed`);
  }

  /** Every connection reaches aedes through the packet size guard and the admission gate, whatever its transport. */
  const accept = (conn: Duplex, req?: IncomingMessage) =>
    new GuardedConnection(conn, {
      firstBytesWithinMs: CONNECT_TIMEOUT_MS,
      handOver: (guarded) => (admission ? admission.handOver(guarded, () => aedes.handle(guarded, req)) : aedes.handle(guarded, req)),
      refusedEarly: () => metrics.connectsTotal.inc({ result: 'packet_too_large' }),
    });

  function listenOn(server: Server, port: number, host: string): Promise<number> {
    servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  return {
    aedes,
    listen(port, host, tls) {
      const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (c) => accept(c)) : createServer((c) => accept(c));
      return listenOn(server, port, host);
    },
    listenWebSocket(port, host) {
      const server = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
      });
      // ws holds a whole message before the guard sees it: no message may exceed two packets.
      const wss = new WebSocketServer({
        server,
        maxPayload: 2 * packetLimits.afterAuth,
        handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
      });
      wss.on('connection', (ws, req) => accept(createWebSocketStream(ws), req));
      return listenOn(server, port, host);
    },
    sendCommand(deviceId, message) {
      metrics.messagesOut.inc({ kind: 'cmd' });
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic: topicFor(deviceId, 'cmd'), payload: Buffer.from(JSON.stringify(message)), qos: 1, retain: false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    isConnected: (id) => clients.has(id),
    isCommandReady: (id) => commandReady.has(id),
    connectedCount: () => clients.size,
    disconnect(id) {
      clients.get(id)?.close();
    },
    async close() {
      // Stop accepting first; a listener's close completes only once aedes has dropped every client.
      const listenersClosed = Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
      // aedes closes its bus (opts.mq too) once every client is gone, and calls back after.
      await new Promise<void>((ok) => aedes.close(() => ok()));
      await listenersClosed;
    },
  };
}
