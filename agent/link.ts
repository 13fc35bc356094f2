// The MQTT link: an mqtt.js client with OUR reconnect loop.
// mqtt.js retries on a fixed period; a fleet that lost its broker together would then come back
// together. Jittered exponential backoff spreads the storm. The same client (and its in-flight
// QoS1 store) is reused across reconnects so unacknowledged publishes are re-sent; close() lets
// the client go, and the next open() starts a new one, as a rebooted terminal would.
// With several broker URLs (primary + fallbacks, agent/brokerRotation.ts) a move to another URL
// makes a new client that takes over the old one's stores, so in-flight QoS1 still goes out.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { createBrokerRotation } from './brokerRotation.ts';

export interface LinkOptions {
  /** Broker URLs in order of preference, read at every attempt (a trust.set may change them). */
  urls: () => readonly string[];
  clientId: string;
  username: string;
  password: string;
  will: { topic: string; payload: string };
  ca?: string | Buffer;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  backoff: BackoffOptions;
  random: () => number;
  log: Logger;
  onUp(sessionPresent: boolean): void;
  onDown(): void;
  onMessage(topic: string, payload: Buffer): void;
  /** CONNACK refused (bad credentials, not authorized): the loop keeps trying, but callers may
   * want to report or re-enroll. */
  onRefused?(code: number, message: string): void;
}

export interface Link {
  open(): void;
  /** Graceful DISCONNECT (no will) after in-flight messages; stops reconnecting. */
  close(): Promise<void>;
  /** Abrupt loss without DISCONNECT, as when the network goes: the broker fires the will. */
  drop(): void;
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(topic: string): Promise<number>;
  readonly connected: boolean;
  /** Successful connections so far (the first one included). */
  readonly connects: number;
}

const CLOSE_GRACE_MS = 3000;

export function createLink(o: LinkOptions): Link {
  let client: MqttClient | null = null;
  let closing = false;
  let up = false;
  let attempt = 0;
  let connects = 0;
  let timer: NodeJS.Timeout | null = null;
  let clientUrl = '';
  const rotation = createBrokerRotation(o.urls);

  const options: IClientOptions = {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    clean: false,
    protocolVersion: 4,
    keepalive: o.keepaliveS ?? 60,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs ?? 30_000,
    will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true },
    ...(o.ca ? { ca: o.ca, rejectUnauthorized: true } : {}),
  };

  // Same stores: QoS1 publishes not yet acknowledged survive the lost connection.
  function reconnectNow() {
    if (!client || closing) return;
    const url = rotation.next();
    if (url === clientUrl) {
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
      return;
    }
    o.log.info({ url }, 'mqtt trying another broker URL');
    const previous = client;
    startClient(url, { incomingStore: previous.incomingStore, outgoingStore: previous.outgoingStore });
  }

  function startClient(url: string, stores: Pick<IClientOptions, 'incomingStore' | 'outgoingStore'> = {}) {
    clientUrl = url;
    client = connect(url, { ...options, ...stores });
    wire(client);
  }

  function scheduleReconnect() {
    if (closing || timer) return;
    const delay = backoffDelay(attempt++, o.backoff, o.random);
    o.log.debug({ attempt, delayMs: delay }, 'mqtt reconnect scheduled');
    timer = setTimeout(() => {
      timer = null;
      reconnectNow();
    }, delay);
    timer.unref?.();
  }

  // Events of a client that close() let go of are ignored: a reboot or shutdown starts afresh.
  function wire(c: MqttClient) {
    c.on('connect', (connack) => {
      if (c !== client) return;
      up = true;
      attempt = 0;
      connects++;
      rotation.succeeded();
      o.onUp(connack.sessionPresent);
    });
    c.on('close', () => {
      if (c !== client) return;
      if (up) {
        up = false;
        o.onDown();
      } else rotation.failed();
      scheduleReconnect();
    });
    c.on('message', (topic, payload) => {
      if (c === client) o.onMessage(topic, payload);
    });
    c.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (c !== client) return;
      if (typeof code === 'number' && code > 0) {
        o.log.warn({ code, err: err.message }, 'mqtt connection refused');
        o.onRefused?.(code, err.message);
      } else o.log.debug({ err: err.message }, 'mqtt error');
    });
  }

  return {
    open() {
      closing = false;
      if (client) return;
      attempt = 0;
      startClient(rotation.next());
    },
    async close() {
      closing = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const c = client;
      client = null;
      if (up) {
        up = false;
        o.onDown();
      }
      if (!c) return;
      if (!c.connected) {
        await c.endAsync(true);
        return;
      }
      // A graceful end waits for in-flight QoS1; bounded so a dead peer cannot hang shutdown.
      let t: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        t = setTimeout(() => resolve(true), CLOSE_GRACE_MS);
      });
      const timedOutFirst = await Promise.race([c.endAsync(false).then(() => false), timedOut]);
      clearTimeout(t);
      if (timedOutFirst) c.stream.destroy();
    },
    drop() {
      client?.stream.destroy();
    },
    publish(topic, payload, opts) {
      const c = client;
      if (!c) return Promise.reject(new Error('link not open'));
      return new Promise((resolve, reject) =>
        c.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve())),
      );
    },
    async subscribe(topic) {
      if (!client) throw new Error('link not open');
      const granted = await client.subscribeAsync(topic, { qos: 1 });
      return granted[0]?.qos ?? 128;
    },
    get connected() {
      return up;
    },
    get connects() {
      return connects;
    },
  };
}
