// Terminals of a reconnect storm over raw TCP, many per process: each sends a hand-built MQTT 3.1.1
// CONNECT (persistent session, as terminals connect) and, once in, subscribes to its command topic.
// A hostile client reconnects the moment its connection ends, refused or dropped, with no jitter
// and no pause; an honest one waits the agent's jittered backoff (agent/backoff.ts). Raw sockets
// rather than mqtt.js: thousands of clients looping as fast as the server answers must not be
// slowed by the client library, or the storm would be gentler than the one measured.
import { connect, type Socket } from 'node:net';
import { backoffDelay, type BackoffOptions } from '../../agent/backoff.ts';
import { topicFor } from '../../schemas/wire.ts';

export interface StormCredential {
  id: string;
  username: string;
  password: string;
}

export interface StormTarget {
  host: string;
  port: number;
  /** Source addresses the clients are spread over (127.0.0.x), so no pair runs out of ports. */
  localAddresses?: readonly string[];
}

export interface StormCounts {
  clients: number;
  honest: number;
  connected: number;
  honestConnected: number;
  /** CONNECTs sent. */
  attempts: number;
  /** CONNACK 0. */
  accepted: number;
  /** CONNACK 3, server unavailable: refused at admission. */
  refusedUnavailable: number;
  /** Any other non-zero CONNACK. */
  refusedOther: number;
  /** Connections that ended before a CONNACK (reset, closed, refused by the kernel). */
  lostBeforeConnack: number;
  /** Established sessions that ended. */
  dropped: number;
}

const lengthBytes = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
};

const mqttString = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

const packet = (firstByte: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([firstByte, ...lengthBytes(body.length)]), body]);

/** CONNECT, MQTT 3.1.1: user name and password, no clean session, keepalive in seconds. */
export function connectPacket(c: StormCredential, keepaliveS: number): Buffer {
  const header = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc0, keepaliveS >> 8, keepaliveS & 0xff]);
  return packet(0x10, Buffer.concat([header, mqttString(c.id), mqttString(c.username), mqttString(c.password)]));
}

/** SUBSCRIBE to the device's command topic at QoS 1. */
const subscribePacket = (deviceId: string): Buffer =>
  packet(0x82, Buffer.concat([Buffer.from([0x00, 0x01]), mqttString(topicFor(deviceId, 'cmd')), Buffer.from([0x01])]));

const PINGREQ = Buffer.from([0xc0, 0x00]);
const KEEPALIVE_S = 60;
// mqtt.js's and the agent's connectTimeout: a handshake the server's full accept queue dropped
// leaves the socket established on the client's side only, its CONNECT retransmitted for minutes.
const CONNACK_TIMEOUT_MS = 30_000;

export interface StormFleet {
  counts(): StormCounts;
  /** Destroys every socket at once; each client then reconnects by its own rule. */
  cut(): void;
  stop(): void;
}

/** Starts `clients` now; the first `honest` of them back off like the agent, the rest hammer. */
export function startStorm(
  target: StormTarget,
  clients: readonly StormCredential[],
  honest: number,
  backoff: BackoffOptions,
  random: () => number = Math.random,
): StormFleet {
  const counts: StormCounts = {
    clients: clients.length,
    honest,
    connected: 0,
    honestConnected: 0,
    attempts: 0,
    accepted: 0,
    refusedUnavailable: 0,
    refusedOther: 0,
    lostBeforeConnack: 0,
    dropped: 0,
  };
  const sockets = new Set<Socket>();
  const sessions = new Set<Socket>();
  let stopped = false;

  function run(c: StormCredential, index: number): void {
    const isHonest = index < honest;
    const addresses = target.localAddresses ?? [];
    const localAddress = addresses.length ? addresses[index % addresses.length] : undefined;
    const hello = connectPacket(c, KEEPALIVE_S);
    let attempt = 0;
    let subscribed = false;

    const open = (): void => {
      if (stopped) return;
      counts.attempts++;
      let answered = false;
      let inSession = false;
      const socket = connect({ host: target.host, port: target.port, ...(localAddress ? { localAddress } : {}) });
      sockets.add(socket);
      socket.setNoDelay(true);
      const unanswered = setTimeout(() => socket.destroy(), CONNACK_TIMEOUT_MS);
      socket.on('connect', () => socket.write(hello));
      socket.on('data', (chunk: Buffer) => {
        if (answered) return;
        answered = true;
        clearTimeout(unanswered);
        if (chunk[0] !== 0x20 || chunk.length < 4) return void counts.lostBeforeConnack++;
        const code = chunk[3]!;
        if (code === 0) {
          counts.accepted++;
          counts.connected++;
          if (isHonest) counts.honestConnected++;
          inSession = true;
          sessions.add(socket);
          attempt = 0;
          if (!subscribed) socket.write(subscribePacket(c.id));
          subscribed = true;
          return;
        }
        if (code === 3) counts.refusedUnavailable++;
        else counts.refusedOther++;
        // The server closes after a refusal; waiting for its close leaves TIME_WAIT on its side,
        // not ours, so a tight loop does not run out of ephemeral ports.
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(unanswered);
        sockets.delete(socket);
        sessions.delete(socket);
        if (inSession) {
          counts.connected--;
          if (isHonest) counts.honestConnected--;
          counts.dropped++;
        } else if (!answered) counts.lostBeforeConnack++;
        if (stopped) return;
        if (!isHonest) return void setImmediate(open);
        setTimeout(open, backoffDelay(attempt++, backoff, random));
      });
    };
    open();
  }

  clients.forEach(run);
  const pinger = setInterval(
    () => {
      for (const s of sessions) s.write(PINGREQ);
    },
    (KEEPALIVE_S * 1000) / 2,
  );
  pinger.unref();

  return {
    counts: () => ({ ...counts }),
    cut() {
      for (const s of sockets) s.destroy();
    },
    stop() {
      stopped = true;
      clearInterval(pinger);
      for (const s of sockets) s.destroy();
    },
  };
}
