// How big a packet a connection may send, decided from MQTT fixed headers alone: aedes and
// mqtt-packet have no limit and buffer whatever remaining length a packet declares (a CONNECT
// declaring 256 MB held 32 MB of one unauthenticated socket). The guard reads only the type byte
// and the remaining length of each packet and skips over bodies by counting, so it neither copies
// nor keeps any of the bytes it sees.
import { MAX_PAYLOAD_BYTES } from '../../schemas/wire.ts';

export interface PacketLimits {
  /** Largest remaining length of a packet before the connection is authenticated. */
  beforeAuth: number;
  /** Bytes a connection may send in all before it is authenticated. */
  totalBeforeAuth: number;
  /** Largest remaining length of a packet once authenticated. */
  afterAuth: number;
}

/**
 * Our CONNECT (ids, secret, a small will) is a few hundred bytes. After authentication a packet may
 * reach twice the payload limit: a payload somewhat over 64 KiB is still read and dropped by the
 * publish checks with the link kept (a terminal with one oversized report must not fall into a
 * reconnect loop resending it); only beyond that is the connection closed.
 */
export const packetLimits: PacketLimits = {
  beforeAuth: 1024,
  totalBeforeAuth: 8 * 1024,
  afterAuth: 2 * MAX_PAYLOAD_BYTES,
};

export interface Oversize {
  /** `packet`: a packet declared more than `limit` bytes; `unauthenticated`: more than `limit` bytes in all before authentication. */
  kind: 'packet' | 'unauthenticated';
  /** The remaining length declared so far (a lower bound while its bytes are still arriving), or the bytes sent. */
  bytes: number;
  limit: number;
  authenticated: boolean;
}

export interface PacketSizeGuard {
  /** Reads a chunk as the connection sent it; the first limit it breaks, or null. */
  feed(chunk: Uint8Array): Oversize | null;
  /** The connection is authenticated: the larger packet limit applies from now on. */
  authenticated(): void;
}

/** Where the guard is in the current packet: its type byte, its remaining length, or its body. */
type Phase = 'type' | 'length' | 'body';

export function createPacketSizeGuard(limits: PacketLimits = packetLimits): PacketSizeGuard {
  let authenticated = false;
  let sentBeforeAuth = 0;
  let phase: Phase = 'type';
  let length = 0;
  let multiplier = 1;
  let bodyLeft = 0;

  return {
    authenticated() {
      authenticated = true;
    },
    feed(chunk) {
      if (!authenticated) {
        sentBeforeAuth += chunk.length;
        if (sentBeforeAuth > limits.totalBeforeAuth) return { kind: 'unauthenticated', bytes: sentBeforeAuth, limit: limits.totalBeforeAuth, authenticated };
      }
      const limit = authenticated ? limits.afterAuth : limits.beforeAuth;
      let i = 0;
      while (i < chunk.length) {
        if (phase === 'body') {
          const skipped = Math.min(bodyLeft, chunk.length - i);
          bodyLeft -= skipped;
          i += skipped;
          if (bodyLeft === 0) phase = 'type';
          continue;
        }
        const byte = chunk[i++]!;
        if (phase === 'type') {
          phase = 'length';
          length = 0;
          multiplier = 1;
          continue;
        }
        // The remaining length is a little-endian base-128 number; each byte only adds to it, so
        // a length over the limit is known before its last byte arrives.
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if (length > limit) return { kind: 'packet', bytes: length, limit, authenticated };
        if (byte & 0x80) continue;
        bodyLeft = length;
        phase = length === 0 ? 'type' : 'body';
      }
      return null;
    },
  };
}
