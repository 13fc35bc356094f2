// The embedded MQTT broker: aedes with our authentication, ACL, size/JSON/schema checks and
// flood control. Valid device messages are handed to `ingest` synchronously; nothing here
// touches the database. aedes hooks are callback-style and every path calls back exactly once.
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { MAX_PAYLOAD_BYTES, inboundSchemas, topicFor, type DevicePublishKind } from '../../schemas/wire.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import { ConnectRefused } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { decidePublish, mayDeviceSubscribe } from './acl.ts';
import { newBucket, takeToken, type Bucket, type RateLimit } from './rateLimiter.ts';

export type RejectReason = 'too_large' | 'bad_json' | 'schema' | 'acl' | 'rate_limited';

export interface IngestSink {
  connected(deviceId: string): void;
  /** The device holds its command subscription: commands sent now reach it. */
  commandReady(deviceId: string): void;
  disconnected(deviceId: string): void;
  heard(deviceId: string): void;
  message(deviceId: string, kind: DevicePublishKind, data: unknown): void;
  rejected(deviceId: string, reason: RejectReason, detail: string): void;
  flooded(deviceId: string): void;
}

export interface BrokerOptions {
  credentials: CredentialCache;
  sink: IngestSink;
  metrics: Metrics;
  log: Logger;
  rateLimit: RateLimit;
  floodDisconnectAfter: number;
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

export async function createMqttBroker(opts: BrokerOptions): Promise<MqttBroker> {
  const { metrics, log, sink } = opts;
  const clients = new Map<string, Client>();
  const buckets = new Map<string, Bucket>();
  const commandReady = new Set<string>();
  const markReady = (id: string) => {
    commandReady.add(id);
    sink.commandReady(id);
  };
  const servers: Server[] = [];
  // Bound once: resolving the label set on every message showed in the ingest profile.
  const acceptedOf = (kind: DevicePublishKind) => metrics.messagesIn.labels({ kind });
  const accepted: Record<DevicePublishKind, ReturnType<typeof acceptedOf>> = { state: acceptedOf('state'), health: acceptedOf('health'), event: acceptedOf('event'), ack: acceptedOf('ack') };

  const aedes = await Aedes.createBroker({
    heartbeatInterval: 60_000,
    connectTimeout: 15_000,
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
      if (client && mayDeviceSubscribe(client.id, sub.topic)) return done(null, sub);
      if (client) sink.rejected(client.id, 'acl', `subscription to ${sub.topic.slice(0, 200)} refused`);
      metrics.dropped.inc({ reason: 'acl_subscribe' });
      done(null, null);
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // an obsolete will of a device long gone: harmless
      const verdict = check(client, packet);
      if (verdict) {
        packet.topic = DROP_TOPIC;
        packet.retain = false;
      }
      done(null);
    },
  });

  function drop(deviceId: string, reason: RejectReason, detail: string): true {
    metrics.dropped.inc({ reason });
    sink.rejected(deviceId, reason, detail);
    return true;
  }

  /** Returns true when the packet must be dropped. */
  function check(client: Client, packet: PublishPacket): boolean {
    const deviceId = client.id;
    const now = Date.now();
    let bucket = buckets.get(deviceId);
    if (!bucket) buckets.set(deviceId, (bucket = newBucket(opts.rateLimit, now)));
    if (!takeToken(bucket, opts.rateLimit, now)) {
      metrics.dropped.inc({ reason: 'rate_limited' });
      if (bucket.refusedInRow === 1) sink.rejected(deviceId, 'rate_limited', 'over the message rate: throttled');
      if (bucket.refusedInRow >= opts.floodDisconnectAfter) {
        sink.flooded(deviceId);
        client.close();
      }
      return true;
    }
    const decision = decidePublish(deviceId, packet.topic);
    if (!decision.allowed) {
      metrics.dropped.inc({ reason: 'acl' });
      sink.rejected(deviceId, 'acl', `publish to ${packet.topic.slice(0, 200)} refused (${decision.reason})`);
      return true;
    }
    const payload = packet.payload as Buffer;
    if (payload.length > MAX_PAYLOAD_BYTES) return drop(deviceId, 'too_large', `${payload.length} bytes on ${decision.kind} (limit ${MAX_PAYLOAD_BYTES})`);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return drop(deviceId, 'bad_json', `payload on ${decision.kind} is not JSON`);
    }
    const parsed = inboundSchemas[decision.kind].safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return drop(deviceId, 'schema', `${decision.kind}: ${issues.join('; ')}`);
    }
    accepted[decision.kind].inc();
    sink.message(deviceId, decision.kind, parsed.data);
    // The server holds each device's latest state itself, and no device may read another's
    // topics: a retained copy in the broker would serve nobody, while aedes scans every retained
    // message on each SUBSCRIBE, which made a fleet-wide reconnect quadratic.
    packet.retain = false;
    return false;
  }

  aedes.on('client', (client) => {
    // A takeover (same client id reconnecting) leaves the newest connection as the device's.
    clients.set(client.id, client);
    metrics.connectedDevices.set(clients.size);
    sink.connected(client.id);
    // A persistent session restored before CONNACK already holds the subscription.
    if ((client as SessionClient).subscriptions[topicFor(client.id, 'cmd')]) markReady(client.id);
  });
  aedes.on('unsubscribe', (topics, client) => {
    if (clients.get(client.id) === client && topics.includes(topicFor(client.id, 'cmd'))) commandReady.delete(client.id);
  });
  aedes.on('subscribe', (subs, client) => {
    const cmdTopic = topicFor(client.id, 'cmd');
    if (clients.get(client.id) === client && subs.some((s) => s.topic === cmdTopic && (s.qos as number) !== 128)) markReady(client.id);
  });
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id) !== client) return;
    clients.delete(client.id);
    buckets.delete(client.id);
    commandReady.delete(client.id);
    metrics.connectedDevices.set(clients.size);
    sink.disconnected(client.id);
  });
  aedes.on('ping', (_packet, client) => sink.heard(client.id));
  aedes.on('clientError', (client, err) => log.debug({ deviceId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'connection error'));

  function listenOn(server: Server, port: number, host: string): Promise<number> {
    servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  return {
    aedes,
    listen(port, host, tls) {
      const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, aedes.handle) : createServer(aedes.handle);
      return listenOn(server, port, host);
    },
    listenWebSocket(port, host) {
      const server = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
      });
      const wss = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
      wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));
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
      await new Promise<void>((ok) => aedes.close(() => ok()));
      await listenersClosed;
    },
  };
}
