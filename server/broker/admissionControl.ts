// Where the admission gate (connectAdmission.ts) meets the sockets: a connection whose first bytes
// passed the packet size guard is either handed to aedes, holding a pending slot until it
// authenticates or goes, or refused on the spot.
//
// A refusal answers CONNACK 3 ("server unavailable", MQTT 3.1.1 §3.2.2.3: the network connection
// was made but the MQTT service is unavailable) and closes, without parsing the CONNECT or making
// an aedes client. Closing before reading would save nothing that matters: the kernel and Node
// have already accepted the socket, and the guard reads the first chunk anyway. It would look to
// the client like a broker crash (a reset, as its CONNECT is still unread), while a CONNACK 3 is
// the standard answer that says "come back later": mqtt.js reports it as refusal code 3, and our
// agent takes it as it takes every failed attempt, backing off with jitter. The CONNACK follows the client's
// first bytes, as the protocol orders it.
import type { Duplex } from 'node:stream';
import { createAdmissionGate, type AdmissionLimits, type AdmissionRefusal } from './connectAdmission.ts';

// CONNACK, remaining length 2, no session present, return code 3. The same bytes in MQTT 3.1 and
// 3.1.1, the versions aedes speaks.
const CONNACK_SERVER_UNAVAILABLE = Buffer.from([0x20, 0x02, 0x00, 0x03]);

export interface ConnectAdmission {
  /** Gives `conn` to the broker (`toBroker`) if admitted; else answers CONNACK 3 and closes it. */
  handOver(conn: Duplex, toBroker: () => void): void;
  /** The broker accepted `conn`'s CONNECT: its slot is free for the next one. */
  authenticated(conn: Duplex): void;
}

export function createConnectAdmission(
  limits: AdmissionLimits,
  onRefused: (reason: AdmissionRefusal) => void,
  now = () => performance.now(),
): ConnectAdmission {
  const gate = createAdmissionGate(limits, now());
  const holding = new WeakMap<Duplex, () => void>();
  return {
    handOver(conn, toBroker) {
      const refusal = gate.admit(now());
      if (refusal) {
        onRefused(refusal);
        return void conn.end(CONNACK_SERVER_UNAVAILABLE, () => conn.destroy());
      }
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        holding.delete(conn);
        gate.settle();
      };
      holding.set(conn, release);
      // A refused CONNECT, a dropped socket and the 5 s CONNECT limit all end here.
      conn.once('close', release);
      toBroker();
    },
    authenticated(conn) {
      holding.get(conn)?.();
    },
  };
}
