// One raw TCP socket to the broker (node:net, no MQTT client): writes whatever bytes a test gives it
// and parses what the broker answers with mqtt-packet, so a test sees each CONNACK, SUBACK and
// PINGRESP and when the broker closed the socket.
import { connect, type Socket } from 'node:net';
import { generate, parser, type Packet } from 'mqtt-packet';
import { eventually } from '../helpers/eventually.ts';

export interface RawMqttSocket {
  readonly socket: Socket;
  /** Every packet the broker sent, in order. */
  readonly received: Packet[];
  /** Set once the socket closed, by either side. */
  readonly closed: boolean;
  /** Resolves when the socket has closed. */
  readonly whenClosed: Promise<void>;
  write(bytes: Buffer): Promise<void>;
  /** Waits for the first packet of `cmd` from index `from` on; null when the socket closed first. */
  next(cmd: Packet['cmd'], from?: number, timeoutMs?: number): Promise<Packet | null>;
  /** Sends a PINGREQ and waits for the PINGRESP that answers it: the link is up and read. */
  ping(timeoutMs?: number): Promise<boolean>;
  destroy(): Promise<void>;
}

const PINGREQ = generate({ cmd: 'pingreq' });

export async function openRawMqtt(port: number): Promise<RawMqttSocket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received: Packet[] = [];
  const decode = parser({ protocolVersion: 4 });
  decode.on('packet', (p) => void received.push(p));
  // The broker's answers are the test's evidence: one it cannot parse fails the case that reads it.
  decode.on('error', () => socket.destroy());
  socket.on('data', (chunk) => void decode.parse(chunk));
  // A reset (the broker closing with unread bytes in flight) is one way of being closed.
  socket.on('error', () => {});
  let closed = false;
  const whenClosed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );

  // PINGREQs this side wrote, read back from its own bytes: a PINGRESP answers each in order, so
  // the one answering the last is the one whose count matches.
  let pingsSent = 0;
  const encoded = parser({ protocolVersion: 4 });
  encoded.on('packet', (p) => void (p.cmd === 'pingreq' && pingsSent++));
  encoded.on('error', () => {});
  const pingresps = () => received.filter((p) => p.cmd === 'pingresp').length;

  return {
    socket,
    received,
    get closed() {
      return closed;
    },
    whenClosed,
    write: (bytes) =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        encoded.parse(bytes);
        // Written even if the broker closes meanwhile: that is an answer too, read from `closed`.
        socket.write(bytes, () => resolve());
      }),
    async next(cmd, from = 0, timeoutMs = 8_000) {
      const found = () => received.slice(from).find((p) => p.cmd === cmd);
      await eventually(() => found() ?? closed, { timeoutMs, what: `a ${cmd}`, stepMs: 10 });
      return found() ?? null;
    },
    async ping(timeoutMs = 8_000) {
      if (closed) return false;
      socket.write(PINGREQ);
      const expected = ++pingsSent;
      await eventually(() => pingresps() >= expected || closed, { timeoutMs, what: `PINGRESP #${expected}`, stepMs: 10 });
      return !closed;
    },
    async destroy() {
      socket.destroy();
      await whenClosed;
    },
  };
}
