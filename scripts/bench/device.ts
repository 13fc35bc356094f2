// One simulated terminal on a raw mqtt.js client: the wire behaviour of the agent (SPEC §3)
// without its logic, so the generator stays cheap enough to load a broker on a 2-core machine.
import { createConnection } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';
import { backoffDelay, defaultBackoff } from '../../agent/backoff.ts';
import { topicFor } from '../../schemas/wire.ts';
import type { DeviceSpec, TargetSpec } from './protocol.ts';

/** Per-outage bound on reconnect attempts; with the default backoff that is well over an hour. */
const maxAttempts = 40;

export interface DeviceCounters {
  reconnects: number;
  cmdsReceived: number;
  acksConfirmed: number;
  errors: string[];
}

export function newCounters(): DeviceCounters {
  return { reconnects: 0, cmdsReceived: 0, acksConfirmed: 0, errors: [] };
}

function note(counters: DeviceCounters, message: string): void {
  // Bounded: a refusing broker would otherwise fill memory with the same line.
  if (counters.errors.length < 20) counters.errors.push(message);
}

export class SimDevice {
  connected = false;
  private readonly client: MqttClient;
  private readonly cmdTopic: string;
  private readonly stateTopic: string;
  private readonly healthTopic: string;
  private readonly ackTopic: string;
  private attempt = 0;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly bootAt = Date.now();
  private firstConnack: Promise<number>;
  private firstReady: Promise<number>;

  constructor(
    readonly spec: DeviceSpec,
    target: TargetSpec,
    private readonly counters: DeviceCounters,
  ) {
    this.cmdTopic = topicFor(spec.id, 'cmd');
    this.stateTopic = topicFor(spec.id, 'state');
    this.healthTopic = topicFor(spec.id, 'health');
    this.ackTopic = topicFor(spec.id, 'ack');
    const options: IClientOptions = {
      protocolVersion: 4,
      clientId: spec.id,
      clean: false,
      reconnectPeriod: 0, // our own loop below, with the agent's jittered backoff
      keepalive: 60,
      connectTimeout: 30_000,
      manualConnect: true,
      will: { topic: this.stateTopic, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
      ...(spec.username !== undefined ? { username: spec.username, password: spec.password } : {}),
    };
    // The first broker, then the alternates from a random place, so a dead instance's terminals
    // spread over the others instead of all landing on the next one.
    const others = target.alternates ?? [];
    const offset = others.length ? Math.floor(Math.random() * others.length) : 0;
    const brokers = [{ host: target.host, port: target.port }, ...others.slice(offset), ...others.slice(0, offset)];
    let current = 0;
    let reachedSinceLastTry = false;
    // mqtt.js's own TCP builder does not pass `localAddress` to net.connect, so build the socket here.
    this.client = new MqttClient(() => {
      const broker = brokers[current]!;
      return createConnection({ host: broker.host, port: broker.port, localAddress: target.localAddress });
    }, options);
    this.client.on('connect', () => (reachedSinceLastTry = true));
    this.client.on('close', () => {
      // A session that ended is tried once more where it was; a connect that failed moves on.
      if (!reachedSinceLastTry) current = (current + 1) % brokers.length;
      reachedSinceLastTry = false;
    });
    let onConnack: (at: number) => void = () => {};
    let onReady: (at: number) => void = () => {};
    this.firstConnack = new Promise((resolve) => (onConnack = resolve));
    this.firstReady = new Promise((resolve) => (onReady = resolve));
    let first = true;

    const subscribe = () =>
      new Promise<void>((resolve) => {
        this.client.subscribe(this.cmdTopic, { qos: 1 }, (err, granted) => {
          if (err || granted?.[0]?.qos === 128) note(this.counters, `subscribe ${spec.id}: ${err?.message ?? 'refused'}`);
          resolve();
        });
      });
    this.client.on('connect', (connack) => {
      this.connected = true;
      this.attempt = 0;
      if (!first) {
        // A broker without our session (another instance of a cluster, a restarted one) holds no
        // subscription: take it again, as the agent does, before saying we are online there.
        if (connack.sessionPresent) void this.publishState();
        else void subscribe().then(() => this.publishState());
        return;
      }
      const state = this.publishState();
      first = false;
      onConnack(Date.now());
      void Promise.all([state, subscribe()]).then(() => onReady(Date.now()));
    });
    this.client.on('message', (topic, payload) => {
      if (topic === this.cmdTopic) this.answer(payload);
    });
    this.client.on('error', (err) => note(this.counters, `${spec.id}: ${err.message}`));
    this.client.on('close', () => {
      this.connected = false;
      this.scheduleReconnect();
    });
  }

  /** Starts connecting; resolves with the epoch ms of the first CONNACK. */
  start(): Promise<number> {
    this.client.connect();
    return this.firstConnack;
  }

  /** Epoch ms when the first SUBACK and state PUBACK both arrived. */
  ready(): Promise<number> {
    return this.firstReady;
  }

  publishHealth(done: (err: Error | undefined) => void): void {
    const ts = Date.now();
    const sample = {
      ts,
      seq: this.seq++,
      battery: { level: 80, charging: false },
      temperatureC: 36,
      printer: { status: 'ok' },
      signal: { type: 'wifi', rssi: -60 },
      uptimeS: Math.floor((ts - this.bootAt) / 1000),
    };
    this.client.publish(this.healthTopic, JSON.stringify(sample), { qos: 1 }, (err) => done(err ?? undefined));
  }

  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()));
  }

  private publishState(): Promise<void> {
    const state = JSON.stringify({ online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() });
    return new Promise((resolve) => this.client.publish(this.stateTopic, state, { qos: 1, retain: true }, () => resolve()));
  }

  private answer(payload: Buffer): void {
    this.counters.cmdsReceived++;
    let id: unknown;
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'));
      id = typeof parsed === 'object' && parsed !== null && 'id' in parsed ? parsed.id : undefined;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string') return note(this.counters, `${this.spec.id}: command without id`);
    const ack = JSON.stringify({ cmdId: id, state: 'succeeded' });
    this.client.publish(this.ackTopic, ack, { qos: 1 }, (err) => {
      if (!err) this.counters.acksConfirmed++;
    });
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer) return;
    if (this.attempt >= maxAttempts) return note(this.counters, `${this.spec.id}: gave up after ${maxAttempts} attempts`);
    const delay = backoffDelay(this.attempt++, defaultBackoff);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopping) return;
      this.counters.reconnects++;
      this.client.reconnect();
    }, delay);
  }
}
